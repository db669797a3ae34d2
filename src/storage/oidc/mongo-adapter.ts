import { AsyncLocalStorage } from 'node:async_hooks';
import type { Connection, mongo } from 'mongoose';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import {
  CONSUMPTION_COLLECTION,
  isExpired,
  isRotationMarkerId,
  isUidCopyId,
  rotationMarkerId,
  toDocument,
  uidCopyId,
  uidCopyOf,
  type ConsumptionDocument,
  type OidcDocument,
  type RotationMarker,
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
   * its predecessor's rotation marker (one insert). Only where every rotation ends in
   * completeRotation or abandonRotation (the provider middleware in src/oidc/refresh-rotation.ts).
   */
  readonly deferRotationSuccessors?: boolean;
  /**
   * Where refresh-token rotations are claimed instead of the `oidc_consumption` insert (Redis,
   * when configured: rotation-gate.ts), so the rotation's one MongoDB write is its completion,
   * whose rotation marker (a unique `_id`) is also its durable check: a rotation that loses
   * there answers invalid_grant and leaves no successor. Without it, MongoDB is the gate.
   */
  readonly rotationGate?: RotationGate | undefined;
  /**
   * Revokes a grant whose refresh token was reused after its rotation, when that is found out
   * past the library's own check (the refresh grant's find reads no rotation marker: see
   * inRefreshGrant). Defaults to deleting the grant's records in MongoDB.
   */
  readonly revokeReusedGrant?: ((grantId: string) => Promise<void>) | undefined;
}

/** What the refresh grant in progress presents, and what its storage found out (inRefreshGrant). */
export interface RefreshGrantScope {
  readonly refreshToken: string;
  /** Set when the presented token turned out to be reused after its rotation: its grant was revoked. */
  reusedGrantId?: string;
}

export interface MongoAdapterFactory {
  (model: string): Adapter;
  /**
   * Marks a consumed refresh token as rotated once the token response that carries its
   * successor is ready (see consume below): one insert of the successor held back by the upsert
   * (`successorId`) and the rotation marker `rotated:<id>`. Later completions inside the reuse
   * window add their successor and do not move the window; otherwise a completion that finds the
   * marker taken rejects with invalid_grant (reuse also revokes the grant) and removes its
   * successor again.
   */
  completeRotation(id: string, successorId?: string): Promise<void>;
  /**
   * Runs the refresh grant of one request (the token endpoint, `grant_type=refresh_token`,
   * presenting `refreshToken`): its own find of that token reads only the token, not its
   * rotation marker — the rotation's insert finds out whether it was rotated already, and a
   * reuse found out that way revokes the grant there (revokeReusedGrant). Every other find of a
   * refresh token (introspection, revocation, anything else) reads both.
   */
  inRefreshGrant<T>(refreshToken: string, run: () => T): T;
  /** The grant revoked for a reused refresh token during the current refresh grant, if any. */
  reusedGrant(): string | undefined;
  /**
   * The rotation's response failed: its held-back successor was never handed out; forget it,
   * and give back the rotation's Redis claim so the client's retry is not refused meanwhile.
   */
  abandonRotation(id: string, successorId?: string): Promise<void>;
}

/** Which document of an `insert` command a duplicate key stopped (MongoBulkWriteError#writeErrors). */
function failedIndex(error: unknown): number | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const first = Array.isArray(writeErrors) ? (writeErrors[0] as { index?: unknown } | undefined) : (writeErrors as { index?: unknown } | undefined);
  return typeof first?.index === 'number' ? first.index : undefined;
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
type ConsumeState = Pick<OidcDocument, 'expiresAt' | 'consumed' | 'consumedAtMs' | 'grantId'> & {
  /** When it was read; a refresh token's rotation completed before this was reuse. */
  readonly foundAtMs: number;
  /** Whether a refresh token's rotation marker was read with it (consumed/consumedAtMs then include it). */
  readonly markerRead: boolean;
};

/** What a refresh-token rotation's completion needs from its consume. */
interface Claim {
  readonly atMs: number;
  /** This rotation holds the Redis claim (and gives it back should it fail). */
  readonly inRedis: boolean;
  readonly foundAtMs: number;
  readonly markerRead: boolean;
  readonly expiresAt?: Date | undefined;
  readonly grantId?: string | undefined;
}

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
  revokeReusedGrant,
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
  const justFound = new Map<string, ConsumeState>();
  function rememberFound(key: string, doc: OidcDocument, at: number, markerRead: boolean): void {
    justFound.delete(key);
    justFound.set(key, { expiresAt: doc.expiresAt, consumed: doc.consumed, consumedAtMs: doc.consumedAtMs, grantId: doc.grantId, foundAtMs: at, markerRead });
    if (justFound.size > JUST_FOUND_ENTRIES) justFound.delete(justFound.keys().next().value!);
  }
  function takeFound(key: string, at: number): ConsumeState | undefined {
    const found = justFound.get(key);
    justFound.delete(key);
    return found !== undefined && at - found.foundAtMs < JUST_FOUND_MS ? found : undefined;
  }

  const refreshGrants = new AsyncLocalStorage<RefreshGrantScope>();
  const markers = () => collection<RotationMarker>(collectionName(REFRESH_TOKEN));
  /** A refresh token as it reads with its rotation: consumed from the first completed rotation on. */
  function withRotation(doc: OidcDocument, marker: RotationMarker | null | undefined): OidcDocument {
    if (marker === null || marker === undefined) return doc;
    const consumedAtMs = Math.min(doc.consumedAtMs ?? (doc.consumed === undefined ? Infinity : doc.consumed * 1000), marker.rotatedAtMs);
    return { ...doc, consumed: epochSeconds(consumedAtMs), consumedAtMs };
  }
  /** A refresh token and its rotation marker, read at once (two `_id` reads). */
  async function readRefreshToken(id: string, readMarker: boolean): Promise<OidcDocument | null> {
    const [doc, marker] = await Promise.all([refreshTokens().findOne({ _id: id }), readMarker ? markers().findOne({ _id: rotationMarkerId(id) }) : undefined]);
    return doc === null ? null : withRotation(doc, marker);
  }

  /**
   * The presented refresh token was rotated before this request found it (its find did not read
   * the marker): reuse, as the library would have judged it. Its grant is revoked, the refresh
   * grant's scope remembers it (for the `grant.revoked` event), and the answer is invalid_grant.
   */
  async function reused(grantId: string | undefined): Promise<never> {
    if (grantId !== undefined) {
      const scope = refreshGrants.getStore();
      if (scope !== undefined) scope.reusedGrantId = grantId;
      await (revokeReusedGrant ?? revokeGrant)(grantId);
    }
    throw new errors.InvalidGrant('refresh token already used');
  }

  /**
   * A consume that finds the token claimed (another rotation in flight, or one completed since)
   * when its find did not read the marker: a completed rotation is read now. Inside the reuse
   * window it is accepted ('window'); completed before this request's find, it is reuse.
   */
  async function completedRotation(id: string, state: ConsumeState, at: number, window: number): Promise<'window' | 'none'> {
    if (state.markerRead) return 'none';
    const marker = await markers().findOne({ _id: rotationMarkerId(id) });
    if (marker === null) return 'none';
    if (withinReuseWindow(marker.rotatedAtMs, window, at)) return 'window';
    // The same millisecond counts as before: a reuse is never let off on a tie.
    if (marker.rotatedAtMs <= state.foundAtMs) await reused(state.grantId);
    return 'none';
  }

  /**
   * Successors of refresh-token rotations, by id, not yet written. Holding the successor until
   * the response is ready writes it with the old token's rotation marker in one insert at
   * completion (successor first, then the marker), and keeps the guarantee: a rotation whose
   * response fails stores neither. A successor still held after HELD_SUCCESSOR_MS, or pushed out by the
   * bound, is written on its own — writing one that was never handed out is harmless; losing
   * one that was would sign the client out.
   */
  const heldSuccessors = new Map<string, { readonly doc: OidcDocument; readonly atMs: number }>();
  function refreshTokens() {
    return collection<OidcDocument>(collectionName(REFRESH_TOKEN));
  }
  const writeSuccessor = (doc: OidcDocument) => refreshTokens().replaceOne({ _id: doc._id }, doc, { upsert: true });
  function releaseOverdue(at: number): void {
    for (const [id, held] of heldSuccessors) {
      if (heldSuccessors.size <= HELD_SUCCESSORS && at - held.atMs < HELD_SUCCESSOR_MS) break;
      heldSuccessors.delete(id);
      void timed(onOperation, REFRESH_TOKEN, 'mongodb', 'upsert', () => writeSuccessor(held.doc)).catch(() => {});
    }
  }

  /**
   * When each refresh token still to be completed was claimed (consume), for the completion: a
   * marker already there is accepted only inside the reuse window as seen from the claim, and
   * is reuse when it predates the request's find; and whether this rotation holds the Redis claim, to give it back should the rotation
   * fail. Bounded like the held successors; a missing entry counts from the completion (and its
   * claim then simply runs out).
   */
  const claims = new Map<string, Claim>();
  function rememberClaim(id: string, at: number, state: ConsumeState, inRedis = false): void {
    claims.delete(id);
    claims.set(id, { atMs: at, inRedis, foundAtMs: state.foundAtMs, markerRead: state.markerRead, expiresAt: state.expiresAt, grantId: state.grantId });
    if (claims.size > HELD_SUCCESSORS) claims.delete(claims.keys().next().value!);
  }
  /**
   * A rotation that handed nothing out gives its Redis claim back (compare-and-delete on its
   * time), so the client retrying after Retry-After is not refused for the rest of the hold —
   * which, with a strict reuse window, is what it would otherwise get. Best effort: if Redis is
   * what failed, the claim runs out with its hold.
   */
  async function releaseClaim(id: string, claim: Claim | undefined): Promise<void> {
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

    /** The state consume decides on: what this request's find just read, or a fresh read. */
    async function consumeState(id: string, at: number): Promise<ConsumeState> {
      const found = takeFound(`${model}:${id}`, at);
      if (found !== undefined) return found;
      const doc =
        model === REFRESH_TOKEN
          ? isRotationMarkerId(id)
            ? null
            : await readRefreshToken(id, true)
          : await own().findOne({ _id: id }, { projection: { expiresAt: 1, consumed: 1, consumedAtMs: 1 } });
      if (doc === null || isExpired(doc, at)) throw consumedTargetMissing(model);
      return { expiresAt: doc.expiresAt, consumed: doc.consumed, consumedAtMs: doc.consumedAtMs, grantId: doc.grantId, foundAtMs: at, markerRead: true };
    }

    /**
     * Codes and the other single-use records: a conditional update is not a compare-and-set on
     * FerretDB v1 (it reads, then replaces), but a unique `_id` insert is atomic on every
     * MongoDB-wire server. Every filter here is a bare `_id`: FerretDB pushes only that down to
     * SQLite, and a filter with more fields scans the collection inside the write (measured:
     * refresh rotation at less than half the rate with `{ _id, consumed: { $exists: false } }`).
     */
    async function consumeOnce(id: string): Promise<void> {
      const at = now();
      const state = await consumeState(id, at);
      if (isExpired(state, at)) throw consumedTargetMissing(model);
      if (state.consumed !== undefined) throw alreadyConsumed(model);
      const gate: ConsumptionDocument = { _id: `${model}:${id}`, atMs: at };
      if (state.expiresAt !== undefined) gate.expiresAt = state.expiresAt;
      try {
        await consumption().insertOne(gate);
      } catch (error) {
        if (isDuplicateKey(error)) throw alreadyConsumed(model);
        throw error;
      }
      await own().updateOne({ _id: id }, { $set: { consumed: epochSeconds(at), consumedAtMs: at } });
    }

    /**
     * A refresh token is only claimed here; it reads as consumed once the response with its
     * successor is ready (completeRotation writes the successor and the rotation marker in one
     * insert). A rotation that fails half-way (a store down while the new tokens are saved) then
     * leaves it usable instead of turning the client's retry into "reuse" that revokes the grant.
     */
    async function consumeRefreshToken(id: string): Promise<void> {
      const at = now();
      const state = await consumeState(id, at);
      if (isExpired(state, at)) throw consumedTargetMissing(model);
      const hold = Math.max(ROTATION_IN_FLIGHT_MS, reuseWindow * 1000);
      if (state.consumed !== undefined) {
        if (!withinReuseWindow(state.consumedAtMs ?? state.consumed * 1000, reuseWindow, at)) throw alreadyConsumed(model);
        rememberClaim(id, at, state);
        return;
      }
      if (rotationGate !== undefined) {
        // The gate in Redis; the one MongoDB write of the rotation is its completion.
        const first = await rotationGate.claim(`${model}:${id}`, at, hold);
        if (first !== undefined && !withinReuseWindow(first, reuseWindow, at)) {
          // Held: a rotation in flight, or one completed since (reuse when before this request's find).
          if ((await completedRotation(id, state, at, reuseWindow)) !== 'window') throw alreadyConsumed(model);
        }
        rememberClaim(id, at, state, first === undefined);
        return;
      }
      // Without Redis, MongoDB's oidc_consumption is the gate (a unique `_id` insert).
      const gate: ConsumptionDocument = { _id: `${model}:${id}`, atMs: at };
      if (state.expiresAt !== undefined) gate.expiresAt = state.expiresAt;
      try {
        await consumption().insertOne(gate);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const first = await consumption().findOne({ _id: gate._id });
        if ((first !== null && withinReuseWindow(first.atMs, reuseWindow, at)) || (await completedRotation(id, state, at, reuseWindow)) === 'window') {
          rememberClaim(id, at, state);
          return;
        }
        if (first === null || at - first.atMs < hold) throw alreadyConsumed(model);
        // The token was claimed long ago but never rotated: that rotation failed (its response
        // was never ready), so this request takes the claim over. Every request taking over the
        // same stale claim inserts the same `_id`, so exactly one wins; the winner then moves the
        // claim's time forward. The token is read afresh first (the state above may come from
        // this request's find): a rotation completed since is reuse.
        const fresh = await readRefreshToken(id, true);
        if (fresh === null || fresh.consumed !== undefined) throw alreadyConsumed(model);
        try {
          await consumption().insertOne({ _id: `${gate._id}@${first.atMs}`, atMs: at, ...(gate.expiresAt === undefined ? {} : { expiresAt: gate.expiresAt }) });
        } catch (retry) {
          if (isDuplicateKey(retry)) throw alreadyConsumed(model);
          throw retry;
        }
        await consumption().replaceOne({ _id: gate._id }, gate);
      }
      rememberClaim(id, at, state);
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
          if (model === REFRESH_TOKEN) {
            // A rotation marker is never a token, whatever a client presents.
            if (isRotationMarkerId(id)) return undefined;
            // The refresh grant's own find reads the token alone: its rotation's insert finds out
            // whether it was rotated already (completeRotation). Everything else reads both.
            const markerRead = refreshGrants.getStore()?.refreshToken !== id;
            const doc = await readRefreshToken(id, markerRead);
            if (doc !== null) rememberFound(`${model}:${id}`, doc, now(), markerRead);
            return present(doc);
          }
          const doc = await own().findOne({ _id: id });
          if (doc !== null && SINGLE_USE_MODELS.has(model)) rememberFound(`${model}:${id}`, doc, now(), true);
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

      consume: (id) => op('consume', () => (model === REFRESH_TOKEN ? consumeRefreshToken(id) : consumeOnce(id))),

      destroy: (id) =>
        op('destroy', async () => {
          if (model === SESSION) return destroySession(id);
          await own().deleteOne({ _id: id });
        }),

      revokeByGrantId: (grantId) => op('revokeByGrantId', () => revokeGrant(grantId)),
    };
  };

  /**
   * The rotation's one write: the successor and the rotation marker `rotated:<id>`, in that
   * order, in ONE `insert` command (one PostgreSQL transaction on FerretDB v1, where an update is
   * a read and a write). The marker's unique `_id` is the durable single-use check on every
   * MongoDB-wire server: a second completion for the same token fails there with a duplicate key,
   * whatever Redis remembers. Successor first: should the command stop between the two, the old
   * token is still unrotated and the successor nobody was given expires.
   */
  async function completeRotation(id: string, successorId?: string): Promise<void> {
    const at = now();
    const successor = successorId === undefined ? undefined : heldSuccessors.get(successorId);
    if (successorId !== undefined) heldSuccessors.delete(successorId);
    const claim = claims.get(id);
    const claimedAt = claim?.atMs ?? at;
    claims.delete(id);
    const marker: RotationMarker = { _id: rotationMarkerId(id), rotatedAtMs: at };
    if (successor !== undefined) marker.successorId = successor.doc._id;
    const expiresAt = claim?.expiresAt ?? successor?.doc.expiresAt;
    if (expiresAt !== undefined) marker.expiresAt = expiresAt;
    const grantId = claim?.grantId ?? successor?.doc.grantId;
    if (grantId !== undefined) marker.grantId = grantId;
    let refused = false;
    await timed(onOperation, REFRESH_TOKEN, 'mongodb', 'completeRotation', async () => {
      const documents: Array<OidcDocument | RotationMarker> = successor === undefined ? [marker] : [successor.doc, marker];
      try {
        await refreshTokens().insertMany(documents as OidcDocument[], { ordered: true });
        return;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (successor !== undefined && failedIndex(error) === 0) {
          // The successor's id is already stored (cannot happen with fresh ids, but an insert is
          // not idempotent): replace it, then the marker alone.
          await writeSuccessor(successor.doc);
          try {
            await markers().insertOne(marker);
            return;
          } catch (retry) {
            if (!isDuplicateKey(retry)) throw retry;
          }
        }
      }
      // The marker is there: another rotation of this token completed. Inside the reuse window
      // (as the claim saw it) this one completes too — its successor is written, the first
      // rotation's time stays. Otherwise it loses, and its successor, never handed out, goes.
      const first = await markers().findOne({ _id: marker._id });
      if (first !== null && withinReuseWindow(first.rotatedAtMs, reuseWindowSeconds, claimedAt)) return;
      refused = true;
      if (successor !== undefined) {
        await refreshTokens()
          .deleteOne({ _id: successor.doc._id })
          .catch(() => {});
      }
      // Rotated before this request found the token, which its find could not see: reuse.
      if (first !== null && claim !== undefined && !claim.markerRead && first.rotatedAtMs <= claim.foundAtMs) await reused(grantId);
      throw alreadyConsumed(REFRESH_TOKEN);
    }).catch(async (error: unknown) => {
      // The completion failed (the answer is 503): nothing was handed out and the old token is
      // unrotated, so its claim goes back. A refusal keeps it: the token was rotated elsewhere.
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

  return Object.assign(factory, {
    completeRotation,
    abandonRotation,
    inRefreshGrant: <T>(refreshToken: string, run: () => T): T => refreshGrants.run({ refreshToken }, run),
    reusedGrant: () => refreshGrants.getStore()?.reusedGrantId,
  });
}
