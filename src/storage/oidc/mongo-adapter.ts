import type { Connection, mongo } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { consumeStateOf, createJustFound, type ConsumeState } from './consume-state.ts';
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
import { createRefreshRotation } from './refresh-rotation.ts';
import { epochSeconds, withinReuseWindow } from './reuse-window.ts';
import type { RotationGate } from './rotation-gate.ts';
import { alreadyConsumed, consumedTargetMissing } from './single-use.ts';
import type { UpsertOutcome } from './upsert-outcome.ts';

export { ROTATION_IN_FLIGHT_MS } from './refresh-rotation.ts';
export type { RefreshGrantScope } from './refresh-grant-context.ts';

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
   * there answers invalid_grant and leaves no successor. Without it, that marker alone is the
   * gate when successors are deferred (the server), and `oidc_consumption` at consume otherwise.
   */
  readonly rotationGate?: RotationGate | undefined;
  /**
   * Revokes a grant whose refresh token was reused after its rotation, when that is found out
   * past the library's own check (the refresh grant's find reads no rotation marker: see
   * inRefreshGrant). Defaults to deleting the grant's records in MongoDB.
   */
  readonly revokeReusedGrant?: ((grantId: string) => Promise<void>) | undefined;
}

export interface MongoAdapterFactory {
  (model: string): Adapter;
  /**
   * Marks a consumed refresh token as rotated once the token response that carries its
   * successor is ready (refresh-rotation.ts): one insert of the successor held back by the upsert
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

/** Models oidc-provider consumes after finding them. */
const SINGLE_USE_MODELS: ReadonlySet<string> = new Set([REFRESH_TOKEN, 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest']);
const JUST_FOUND_ENTRIES = 1_000;
/** A record whose `iat` is at most this many seconds old was (almost always) made by the save that writes it. */
const JUST_MADE_SECONDS = 2;

/**
 * Whether the library most likely saves this record for the first time: oidc-provider sets a
 * record's `iat` (from Date.now) at its first save and keeps it in every later one
 * (lib/models/formats/opaque.js), so a record saved again seconds after it was made is the only
 * misjudged case — it costs a refused insert before the upsert, nothing else. A session that
 * gets a new id at sign-in (resetIdentifier) keeps its `iat` and takes the upsert, as its uid
 * copy may exist.
 */
function justMade(payload: AdapterPayload): boolean {
  return typeof payload.iat === 'number' && payload.iat >= Math.floor(Date.now() / 1000) - JUST_MADE_SECONDS;
}
/** Far longer than a request between its find and its consume; short enough to hold little. */
const JUST_FOUND_MS = 5_000;

/**
 * The generic MongoDB adapter: one collection per model (`oidc_<model>`), indexes created by
 * ensureOidcIndexes at startup, expiry enforced on every read. The RefreshToken model's find,
 * consume and successor upsert go to its rotation (refresh-rotation.ts).
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
  const justFound = createJustFound(JUST_FOUND_ENTRIES, JUST_FOUND_MS);

  async function revokeGrant(grantId: string): Promise<void> {
    await Promise.all(
      GRANT_MEMBER_MODELS.map((member) => collection<OidcDocument>(collectionName(member)).deleteMany({ grantId })),
    );
  }

  const refreshTokens = collectionName(REFRESH_TOKEN);
  const rotation = createRefreshRotation({
    tokens: () => collection<OidcDocument>(refreshTokens),
    consumption,
    reuseWindowSeconds,
    now,
    onOperation,
    deferSuccessors: deferRotationSuccessors,
    gate: rotationGate,
    revokeReusedGrant: revokeReusedGrant ?? revokeGrant,
  });

  const factory = (model: string): Adapter => {
    // The name once per model, not per operation (a regular expression).
    const name = collectionName(model);
    const own = () => collection<OidcDocument>(name);
    const op = <T>(operation: string, run: () => Promise<T>) => timed(onOperation, model, 'mongodb', operation, run);
    const reuseWindow = model === REFRESH_TOKEN ? reuseWindowSeconds : 0;

    /**
     * Writes records the library has just made with one `insert` (of the session and its uid
     * copy: one command), which is cheaper than the upsert that a record saved again needs —
     * FerretDB v1 on PostgreSQL runs an upsert as a read and a write in two transactions, an
     * insert of both documents in one (docs/PERFORMANCE.md, seventh round). False when one of
     * them exists already (a duplicate `_id`): the caller's upsert then writes them all, so the
     * outcome is the upsert's whatever this guessed.
     */
    async function insertedAnew(documents: OidcDocument[]): Promise<boolean> {
      try {
        // One document (a grant, a refresh token) without insertMany's bulk-write bookkeeping.
        if (documents.length === 1) await own().insertOne(documents[0]!);
        else await own().insertMany(documents, { ordered: true });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    }

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
    async function upsertSession(doc: OidcDocument, fresh: boolean): Promise<undefined> {
      if (fresh) {
        const documents = doc.uid === undefined ? [doc] : [doc, uidCopyOf(doc, doc.uid)];
        if (await insertedAnew(documents)) return { created: true } satisfies UpsertOutcome as unknown as undefined;
      }
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
      const found = justFound.take(`${model}:${id}`, at);
      if (found !== undefined) return found;
      const doc = model === REFRESH_TOKEN ? await rotation.read(id) : await own().findOne({ _id: id }, { projection: { expiresAt: 1, consumed: 1, consumedAtMs: 1 } });
      if (doc === null || isExpired(doc, at)) throw consumedTargetMissing(model);
      return consumeStateOf(doc, at, true);
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

    return {
      upsert: (id, payload, expiresIn) =>
        op('upsert', async () => {
          const at = now();
          const doc = toDocument(id, payload, expiresIn, at, model);
          // A rotation's successor, held for its completion (one insert with the rotation marker).
          if (model === REFRESH_TOKEN && rotation.hold(doc, payload, at)) return undefined;
          const fresh = justMade(payload);
          if (model === SESSION) return upsertSession(doc, fresh);
          if (fresh && (await insertedAnew([doc]))) return { created: true } satisfies UpsertOutcome as unknown as undefined;
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
            // With its rotation marker, except the refresh grant's own find (refresh-rotation.ts).
            const { doc, markerRead } = await rotation.find(id);
            if (doc !== null) justFound.remember(`${model}:${id}`, consumeStateOf(doc, now(), markerRead));
            return present(doc);
          }
          const doc = await own().findOne({ _id: id });
          if (doc !== null && SINGLE_USE_MODELS.has(model)) justFound.remember(`${model}:${id}`, consumeStateOf(doc, now(), true));
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
          if (model !== REFRESH_TOKEN) return consumeOnce(id);
          const at = now();
          return rotation.consume(id, await consumeState(id, at), at);
        }),

      destroy: (id) =>
        op('destroy', async () => {
          if (model === SESSION) return destroySession(id);
          await own().deleteOne({ _id: id });
        }),

      revokeByGrantId: (grantId) => op('revokeByGrantId', () => revokeGrant(grantId)),
    };
  };

  return Object.assign(factory, {
    completeRotation: rotation.complete,
    abandonRotation: rotation.abandon,
    inRefreshGrant: rotation.inRefreshGrant,
    reusedGrant: rotation.reusedGrant,
  });
}
