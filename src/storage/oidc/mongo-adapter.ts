import type { Connection, mongo } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import {
  CONSUMPTION_COLLECTION,
  isExpired,
  isUidCopyId,
  toDocument,
  uidCopyId,
  uidCopyOf,
  type ConsumptionDocument,
  type OidcDocument,
} from './mongo-documents.ts';
import { collectionName, GRANT_MEMBER_MODELS, REFRESH_TOKEN, SESSION } from './models.ts';
import { isDuplicateKey } from '../duplicate-key.ts';
import { timed, type OperationHook } from './operation-hook.ts';
import { epochSeconds, withinReuseWindow } from './reuse-window.ts';
import type { RotationGate } from './rotation-gate.ts';
import { alreadyConsumed, consumedTargetMissing } from './single-use.ts';
import type { UpsertOutcome } from './upsert-outcome.ts';

export interface MongoAdapterDeps {
  readonly connection: Connection;
  /** Refresh-token reuse window in seconds; 0 = strict rotation. */
  readonly reuseWindowSeconds: number;
  readonly onOperation?: OperationHook | undefined;
  readonly now?: () => number;
  /**
   * Hold a rotated refresh token's successor until completeRotation writes it together with
   * the mark on its predecessor (one command). Only where every rotation ends in
   * completeRotation or abandonRotation (the provider middleware in src/oidc/refresh-rotation.ts).
   */
  readonly deferRotationSuccessors?: boolean;
  /**
   * Where refresh-token rotations are claimed instead of the `oidc_consumption` insert (Redis,
   * when configured: rotation-gate.ts). The completion then marks the old token only where it
   * is not marked yet (or marked inside the reuse window), so the one MongoDB write of a
   * rotation is also its durable check: a rotation that loses there answers invalid_grant and
   * leaves no successor. Without it, MongoDB is the gate, as before.
   */
  readonly rotationGate?: RotationGate | undefined;
}

export interface MongoAdapterFactory {
  (model: string): Adapter;
  /**
   * Marks a consumed refresh token as rotated once the token response that carries its
   * successor is ready (see consume below). Later completions do not move the reuse window.
   * With `successorId`, a successor held back by the upsert is written in the same command.
   * With a rotation gate, rejects with invalid_grant when the token was marked by another
   * rotation meanwhile (beyond the reuse window) or is gone (its grant revoked): the successor
   * is then removed again.
   */
  completeRotation(id: string, successorId?: string): Promise<void>;
  /**
   * The rotation's response failed: its held-back successor was never handed out; forget it,
   * and give back the rotation's Redis claim so the client's retry is not refused meanwhile.
   */
  abandonRotation(id: string, successorId?: string): Promise<void>;
}

/** Successors held at once; beyond it (or after HELD_SUCCESSOR_MS) the oldest is written as usual. */
const HELD_SUCCESSORS = 10_000;
const HELD_SUCCESSOR_MS = 60_000;

/**
 * How long a claimed refresh-token rotation counts as still in flight: a second request with the
 * same token inside this time is refused (strict, no revocation); after it, the rotation is taken
 * to have failed and the token may rotate again. Never shorter than the reuse window.
 */
export const ROTATION_IN_FLIGHT_MS = 10_000;

/** The part of a record `consume` decides on. */
type ConsumeState = Pick<OidcDocument, 'expiresAt' | 'consumed' | 'consumedAtMs'>;

/** Models oidc-provider consumes after finding them. */
const SINGLE_USE_MODELS: ReadonlySet<string> = new Set([REFRESH_TOKEN, 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest']);
const JUST_FOUND_ENTRIES = 1_000;
/** Far longer than a request between its find and its consume; short enough to hold little. */
const JUST_FOUND_MS = 5_000;

/**
 * The generic MongoDB adapter: one collection per model (`oidc_<model>`), indexes created by
 * ensureOidcIndexes at startup, expiry enforced on every read.
 */
export function createMongoAdapterFactory({
  connection,
  reuseWindowSeconds,
  onOperation,
  now = Date.now,
  deferRotationSuccessors = false,
  rotationGate,
}: MongoAdapterDeps): MongoAdapterFactory {
  const collections = new Map<string, mongo.Collection<never>>();
  function collection<T extends object>(name: string): mongo.Collection<T> {
    let found = collections.get(name);
    if (found === undefined) {
      const db = connection.db;
      if (db === undefined) throw new Error('MongoDB connection is not open');
      found = db.collection<never>(name);
      collections.set(name, found);
    }
    return found as unknown as mongo.Collection<T>;
  }
  const consumption = () => collection<ConsumptionDocument>(CONSUMPTION_COLLECTION);

  /**
   * What `find` just read of a single-use record, for the `consume` that oidc-provider calls
   * moments later in the same request (it finds a code or refresh token, checks it, then
   * consumes it): consume needs the record's expiry and consumption state, and taking them from
   * here saves it a second read. Kept briefly and bounded; a miss falls back to reading.
   */
  const justFound = new Map<string, { readonly state: ConsumeState; readonly atMs: number }>();
  function rememberFound(key: string, doc: OidcDocument, at: number): void {
    justFound.delete(key);
    justFound.set(key, { state: { expiresAt: doc.expiresAt, consumed: doc.consumed, consumedAtMs: doc.consumedAtMs }, atMs: at });
    if (justFound.size > JUST_FOUND_ENTRIES) justFound.delete(justFound.keys().next().value!);
  }
  function takeFound(key: string, at: number): ConsumeState | undefined {
    const found = justFound.get(key);
    justFound.delete(key);
    return found !== undefined && at - found.atMs < JUST_FOUND_MS ? found.state : undefined;
  }

  /**
   * Successors of refresh-token rotations, by id, not yet written. A rotation writes the claim
   * (the gate), then its successor, then — once the response is ready — the mark on the old
   * token: three writes. Holding the successor until that mark writes the last two together at
   * completion (successor first, then the mark), and keeps the guarantee: a rotation whose response
   * fails stores neither. A successor still held after HELD_SUCCESSOR_MS, or pushed out by the
   * bound, is written on its own — writing one that was never handed out is harmless; losing
   * one that was would sign the client out.
   */
  const heldSuccessors = new Map<string, { readonly doc: OidcDocument; readonly atMs: number }>();
  const refreshTokens = () => collection<OidcDocument>(collectionName(REFRESH_TOKEN));
  const writeSuccessor = (doc: OidcDocument) => refreshTokens().replaceOne({ _id: doc._id }, doc, { upsert: true });
  function releaseOverdue(at: number): void {
    for (const [id, held] of heldSuccessors) {
      if (heldSuccessors.size <= HELD_SUCCESSORS && at - held.atMs < HELD_SUCCESSOR_MS) break;
      heldSuccessors.delete(id);
      void timed(onOperation, REFRESH_TOKEN, 'mongodb', 'upsert', () => writeSuccessor(held.doc)).catch(() => {});
    }
  }

  /**
   * When each refresh token still to be completed was claimed (consume), for the completion's
   * condition: the token may already be marked only inside the reuse window as seen from the
   * claim; and whether this rotation holds the Redis claim, to give it back should the rotation
   * fail. Bounded like the held successors; a missing entry counts from the completion (and its
   * claim then simply runs out).
   */
  const claims = new Map<string, { readonly atMs: number; readonly inRedis: boolean }>();
  function rememberClaim(id: string, at: number, inRedis = false): void {
    claims.delete(id);
    claims.set(id, { atMs: at, inRedis });
    if (claims.size > HELD_SUCCESSORS) claims.delete(claims.keys().next().value!);
  }
  /**
   * A rotation that handed nothing out gives its Redis claim back (compare-and-delete on its
   * time), so the client retrying after Retry-After is not refused for the rest of the hold —
   * which, with a strict reuse window, is what it would otherwise get. Best effort: if Redis is
   * what failed, the claim runs out with its hold.
   */
  async function releaseClaim(id: string, claim: { readonly atMs: number; readonly inRedis: boolean } | undefined): Promise<void> {
    if (rotationGate === undefined || claim === undefined || !claim.inRedis) return;
    await rotationGate.release(`${REFRESH_TOKEN}:${id}`, claim.atMs).catch(() => {});
  }

  async function revokeGrant(grantId: string): Promise<void> {
    await Promise.all(
      GRANT_MEMBER_MODELS.map((member) => collection<OidcDocument>(collectionName(member)).deleteMany({ grantId })),
    );
  }

  const factory = (model: string): Adapter => {
    const own = () => collection<OidcDocument>(collectionName(model));
    const op = <T>(operation: string, run: () => Promise<T>) => timed(onOperation, model, 'mongodb', operation, run);
    const reuseWindow = model === REFRESH_TOKEN ? reuseWindowSeconds : 0;

    function present(doc: OidcDocument | null): AdapterPayload | undefined {
      const at = now();
      if (doc === null || isExpired(doc, at)) return undefined;
      const payload = JSON.parse(doc.payload) as AdapterPayload;
      if (doc.consumed !== undefined && !withinReuseWindow(doc.consumedAtMs ?? doc.consumed * 1000, reuseWindow, at)) {
        payload.consumed = doc.consumed;
      }
      return payload;
    }

    /**
     * A session and its uid copy, one `update` command of two statements. Created = the session
     * itself was new (the record cache announces only changes to records that existed).
     */
    async function upsertSession(doc: OidcDocument): Promise<undefined> {
      const statements: Array<mongo.AnyBulkWriteOperation<OidcDocument>> = [{ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }];
      if (doc.uid !== undefined) {
        statements.push({ replaceOne: { filter: { _id: uidCopyId(doc.uid) }, replacement: uidCopyOf(doc, doc.uid), upsert: true } });
      }
      const write = () => own().bulkWrite(statements, { ordered: true });
      let result: mongo.BulkWriteResult;
      try {
        result = await write();
      } catch (error) {
        // Two upserts of a new id race to insert it; the loser replaces the winner's copy.
        if (!isDuplicateKey(error)) throw error;
        await write();
        return undefined;
      }
      const outcome: UpsertOutcome = { created: result.upsertedIds[0] !== undefined };
      return outcome as unknown as undefined;
    }

    /**
     * The uid copy goes first: should the second statement fail, the session is still there but
     * no token bound to it is honoured any more (fail safe), never the other way round. Both
     * filters are a bare `_id` (FerretDB on SQLite scans the collection for anything more). A
     * copy another session with the same uid wrote (panva/node-oidc-provider#1145, rare) goes
     * too; findByUid then finds that session through the uid index.
     */
    async function destroySession(id: string): Promise<void> {
      if (isUidCopyId(id)) return;
      const found = await own().findOne({ _id: id }, { projection: { uid: 1 } });
      if (found === null) return;
      const statements: Array<mongo.AnyBulkWriteOperation<OidcDocument>> = [];
      if (found.uid !== undefined) statements.push({ deleteOne: { filter: { _id: uidCopyId(found.uid) } } });
      statements.push({ deleteOne: { filter: { _id: id } } });
      await own().bulkWrite(statements, { ordered: true });
    }

    return {
      upsert: (id, payload, expiresIn) =>
        op('upsert', async () => {
          const at = now();
          const doc = toDocument(id, payload, expiresIn, at);
          // Only the refresh grant's rotation creates a refresh token with `rotations`.
          if (deferRotationSuccessors && model === REFRESH_TOKEN && typeof payload.rotations === 'number' && payload.rotations > 0) {
            heldSuccessors.set(id, { doc, atMs: at });
            releaseOverdue(at);
            return undefined;
          }
          if (model === SESSION) return upsertSession(doc);
          try {
            const result = await own().replaceOne({ _id: id }, doc, { upsert: true });
            // Adapter#upsert is typed to resolve to nothing; the record cache reads this (upsert-outcome.ts).
            const outcome: UpsertOutcome = { created: result.upsertedCount === 1 };
            return outcome as unknown as undefined;
          } catch (error) {
            // Two upserts of a new id race to insert it; the loser replaces the winner's copy.
            if (!isDuplicateKey(error)) throw error;
            await own().replaceOne({ _id: id }, doc, { upsert: true });
            return undefined;
          }
        }),

      find: (id) =>
        op('find', async () => {
          // A session's uid copy is never a session id (a cookie naming one must not find it).
          if (model === SESSION && isUidCopyId(id)) return undefined;
          const doc = await own().findOne({ _id: id });
          if (doc !== null && SINGLE_USE_MODELS.has(model)) rememberFound(`${model}:${id}`, doc, now());
          return present(doc);
        }),

      findByUid: (uid) =>
        op('findByUid', async () => {
          if (model !== SESSION) return present(await own().findOne({ uid }));
          // By primary key: the copy written with the session. A session stored before the
          // copies existed (or whose copy another session with the same uid took away) is
          // found through the uid index, as before.
          return present((await own().findOne({ _id: uidCopyId(uid) })) ?? (await own().findOne({ uid })));
        }),

      findByUserCode: (userCode) => op('findByUserCode', async () => present(await own().findOne({ userCode }))),

      consume: (id) =>
        op('consume', async () => {
          const at = now();
          const doc =
            takeFound(`${model}:${id}`, at) ??
            (await own().findOne({ _id: id }, { projection: { expiresAt: 1, consumed: 1, consumedAtMs: 1 } }));
          if (doc === null || isExpired(doc, at)) throw consumedTargetMissing(model);
          if (doc.consumed !== undefined) {
            if (!withinReuseWindow(doc.consumedAtMs ?? doc.consumed * 1000, reuseWindow, at)) throw alreadyConsumed(model);
            if (model === REFRESH_TOKEN) rememberClaim(id, at);
            return;
          }
          if (model === REFRESH_TOKEN && rotationGate !== undefined) {
            // The gate in Redis; the one MongoDB write of the rotation is its completion.
            const first = await rotationGate.claim(`${model}:${id}`, at, Math.max(ROTATION_IN_FLIGHT_MS, reuseWindow * 1000));
            if (first !== undefined && !withinReuseWindow(first, reuseWindow, at)) throw alreadyConsumed(model);
            rememberClaim(id, at, first === undefined);
            return;
          }
          // A conditional update is not a compare-and-set on FerretDB v1 (it reads, then
          // replaces), but a unique `_id` insert is atomic on every MongoDB-wire server. Every
          // filter here is a bare `_id`: FerretDB pushes only that down to SQLite, and a filter
          // with more fields scans the collection inside the write (measured: refresh rotation
          // at less than half the rate with `{ _id, consumed: { $exists: false } }`).
          const gate: ConsumptionDocument = { _id: `${model}:${id}`, atMs: at };
          if (doc.expiresAt !== undefined) gate.expiresAt = doc.expiresAt;
          try {
            await consumption().insertOne(gate);
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
            const first = await consumption().findOne({ _id: gate._id });
            if (first !== null && withinReuseWindow(first.atMs, reuseWindow, at)) return;
            if (first === null || model !== REFRESH_TOKEN || at - first.atMs < Math.max(ROTATION_IN_FLIGHT_MS, reuseWindow * 1000)) {
              throw alreadyConsumed(model);
            }
            // The token was claimed long ago but never marked rotated: that rotation failed (its
            // response was never ready), so this request takes the claim over. Every request
            // taking over the same stale claim inserts the same `_id`, so exactly one wins; the
            // winner then moves the claim's time forward. The record is read afresh first (the
            // state above may come from this request's find): a rotation marked since is reuse.
            const fresh = await own().findOne({ _id: id }, { projection: { consumed: 1 } });
            if (fresh === null || fresh.consumed !== undefined) throw alreadyConsumed(model);
            try {
              await consumption().insertOne({ _id: `${gate._id}@${first.atMs}`, atMs: at, ...(gate.expiresAt === undefined ? {} : { expiresAt: gate.expiresAt }) });
            } catch (retry) {
              if (isDuplicateKey(retry)) throw alreadyConsumed(model);
              throw retry;
            }
            await consumption().replaceOne({ _id: gate._id }, gate);
          }
          // A refresh token is only claimed here; it reads as consumed once the response with
          // its successor is ready (completeRotation). A rotation that fails half-way (a store
          // down while the new tokens are saved) then leaves it usable instead of turning the
          // client's retry into "reuse" that revokes the grant.
          if (model === REFRESH_TOKEN) return;
          await own().updateOne({ _id: id }, { $set: { consumed: epochSeconds(at), consumedAtMs: at } });
        }),

      destroy: (id) =>
        op('destroy', async () => {
          if (model === SESSION) return destroySession(id);
          await own().deleteOne({ _id: id });
        }),

      revokeByGrantId: (grantId) => op('revokeByGrantId', () => revokeGrant(grantId)),
    };
  };

  async function completeRotation(id: string, successorId?: string): Promise<void> {
    const at = now();
    const successor = successorId === undefined ? undefined : heldSuccessors.get(successorId);
    if (successorId !== undefined) heldSuccessors.delete(successorId);
    const claim = claims.get(id);
    const claimedAt = claim?.atMs ?? at;
    claims.delete(id);
    // $min: a token reused inside the window and rotated again keeps its first time.
    const update = { $min: { consumed: epochSeconds(at), consumedAtMs: at } };
    // With the gate in Redis, the mark is also the durable check: only a token not marked yet,
    // or marked inside the reuse window as the claim saw it. (On MongoDB a compare-and-set; on
    // FerretDB v1, which reads and then writes, it catches every rotation completed before.)
    const windowMs = reuseWindowSeconds * 1000;
    const filter =
      rotationGate === undefined
        ? { _id: id }
        : windowMs > 0
          ? { _id: id, $or: [{ consumed: { $exists: false } }, { consumedAtMs: { $gt: claimedAt - windowMs } }] }
          : { _id: id, consumed: { $exists: false } };
    let refused = false;
    await timed(onOperation, REFRESH_TOKEN, 'mongodb', 'completeRotation', async () => {
      if (successor === undefined) {
        const result = await refreshTokens().updateOne(filter, update);
        if (rotationGate !== undefined && result.matchedCount === 0) {
          refused = true;
          throw alreadyConsumed(REFRESH_TOKEN);
        }
        return;
      }
      if (rotationGate === undefined) {
        // MongoDB was the gate (one write already): one `update` command of two statements, the
        // successor then the mark, keeps the rotation at two writes. If it fails part-way the
        // client gets no new tokens and retries with the old one.
        await refreshTokens().bulkWrite(
          [{ replaceOne: { filter: { _id: successor.doc._id }, replacement: successor.doc, upsert: true } }, { updateOne: { filter, update } }],
          { ordered: true },
        );
        return;
      }
      // With the Redis claim this is the rotation's only write, and two commands fit the budget:
      // the successor (a plain insert), then the mark. On FerretDB v1 an insert is one PostgreSQL
      // transaction where an upsert statement is two (it reads first): 3 transactions against 4
      // for one `update` command of both (docs/PERFORMANCE.md, fourth round). If the mark fails,
      // the client gets no new tokens and retries with the old one; the successor nobody was
      // given expires.
      await refreshTokens()
        .insertOne(successor.doc)
        .catch((error: unknown) => {
          // Already there (cannot happen with fresh ids, but an insert is not idempotent): replace it.
          if (!isDuplicateKey(error)) throw error;
          return writeSuccessor(successor.doc);
        });
      const result = await refreshTokens().updateOne(filter, update);
      if (result.matchedCount === 0) {
        // Lost: another rotation of this token completed first, or its grant was revoked. The
        // successor was never handed out; remove it (should that fail, nobody knows it and it expires).
        refused = true;
        await refreshTokens()
          .deleteOne({ _id: successor.doc._id })
          .catch(() => {});
        throw alreadyConsumed(REFRESH_TOKEN);
      }
    }).catch(async (error: unknown) => {
      // The completion failed (the answer is 503): nothing was handed out and the old token is
      // unmarked, so its claim goes back. A refusal keeps it: the token was rotated elsewhere.
      if (!refused) await releaseClaim(id, claim);
      throw error;
    });
  }

  async function abandonRotation(id: string, successorId?: string): Promise<void> {
    if (successorId !== undefined) heldSuccessors.delete(successorId);
    const claim = claims.get(id);
    claims.delete(id);
    await releaseClaim(id, claim);
  }

  return Object.assign(factory, { completeRotation, abandonRotation });
}
