import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { asStoreError } from '../../errors/store-unavailable.ts';
import { SHORT_LIVED_MODELS } from './models.ts';
import { createInteractionHandOff } from './interaction-hand-off.ts';
import { withDependentGrants, type DependentGrantsAdapter, type DependentGrantsDeps } from './dependent-grants.ts';
import { createMongoAdapterFactory } from './mongo-adapter.ts';
import type { OperationHook } from './operation-hook.ts';
import type { RecordCache } from './record-cache.ts';
import { createRedisAdapterFactory } from './redis-adapter.ts';
import { createRedisRotationGate } from './rotation-gate.ts';
import { mongoReplayClaims, redisReplayClaims, REPLAY_DETECTION } from './replay-claims.ts';
import { GRANT_SOURCE_MODELS, isAlreadyConsumed, withRevokedGrant } from './single-use.ts';

/**
 * An adapter whose `find` may answer at once, without a promise (the Client model's: a client the
 * clients cache holds, src/clients/provider-adapter.ts), and only a miss with one. The factory
 * hands that on (`guardRead`) where the library's `Adapter` type names a promise: every caller of
 * a `find` awaits it (oidc-provider's lib/models/*.js, Gatehouse's own wrappers), so a plain value
 * reads the same to them.
 */
export interface ReadAtOnceAdapter extends Omit<Adapter, 'find'> {
  find(id: string): AdapterPayload | undefined | Promise<AdapterPayload | undefined>;
}

export interface AdapterFactoryDeps {
  readonly mongo: Connection;
  /** Optional: without it every model lives in MongoDB. */
  readonly redis?: Redis | undefined;
  readonly redisPrefix: string;
  /** Refresh-token reuse window in seconds (config.refreshReuseWindowSeconds); 0 = strict. */
  readonly reuseWindowSeconds: number;
  readonly onOperation?: OperationHook | undefined;
  /** Serves the Client model from Gatehouse's own clients collection (src/clients). */
  readonly clients?: ReadAtOnceAdapter | undefined;
  /** Serves Session and Grant reads from memory and announces their writes (record-cache.ts). */
  readonly records?: RecordCache | undefined;
  /** Rotations end in completeRotation/abandonRotation (the server's provider middleware): write each successor with its predecessor's rotation marker. */
  readonly deferRotationSuccessors?: boolean;
  readonly now?: () => number;
  /**
   * Per model: judged on every record its `find` returns (after the caches); one it refuses
   * reads as absent. Models not named are not wrapped (no extra step on their reads).
   * Gatehouse refuses client_credentials tokens issued before their client's revocation mark
   * (src/oidc/storage.ts), whichever store still holds them.
   */
  readonly admits?: Readonly<Partial<Record<string, (payload: AdapterPayload) => Promise<boolean>>>> | undefined;
  /** Grants that go with the grant they depend on, and their tokens (dependent-grants.ts): token exchange's. */
  readonly dependentGrants?: Pick<DependentGrantsDeps, 'prefixOf' | 'firstOf' | 'parentsAmong' | 'deepestFirst' | 'revoked'> | undefined;
}

/**
 * A store outage surfaces as StoreUnavailableError, which oidc-provider renders as
 * `503 temporarily_unavailable` (its own handling of other adapter errors is `500 server_error`).
 */
function guard<T>(operation: PromiseLike<T> | T): Promise<T> {
  // Every write and every read that reaches a store goes through here: a rejection handler, not
  // an async frame. Promise.resolve adopts a thenable (a query) as `await` did; a native promise
  // is used as it is.
  return Promise.resolve(operation).catch(rethrowAsStoreError);
}

/**
 * `guard` for a read that may answer from memory: a value that is already there (a cache hit:
 * the Client model's clients cache, src/clients/provider-adapter.ts) is handed on as it is — no
 * promise, no rejection handler, no microtask — and only a pending read is guarded. Every caller
 * of an adapter's `find` awaits it (oidc-provider's models, lib/models/*.js; Gatehouse's own
 * wrappers below and in record-cache.ts), so a plain value reads the same to them.
 */
function guardRead<T>(operation: PromiseLike<T> | T): Promise<T> {
  if (isThenable(operation)) return guard(operation);
  return operation as unknown as Promise<T>;
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function rethrowAsStoreError(error: unknown): never {
  throw asStoreError(error);
}

/**
 * The value for oidc-provider's `adapter` option: a factory `(modelName) => adapter` that
 * routes each model to the store that suits its lifetime (docs/STORAGE.md).
 *
 * oidc-provider revokes a grant by calling revokeByGrantId on several models at once
 * (lib/helpers/revoke.js), each only for grant types the client may use. Every model's
 * revokeByGrantId here therefore removes the grant's tokens of all models in both stores, and
 * calls that overlap share one pass.
 */
export interface RoutedAdapterFactory extends AdapterFactory {
  /**
   * Marks a refresh token rotated once the response carrying its successor is ready (one insert
   * of the successor and its rotation marker); until then a consumed refresh token still reads as
   * unconsumed (refresh-rotation.ts). Rejects with invalid_grant when another rotation of the token
   * completed first outside the reuse window (after Redis lost the claim), or the token was
   * reused (the grant is then revoked); nothing of it is then kept.
   */
  completeRotation(refreshTokenId: string, successorId?: string): Promise<void>;
  /**
   * The response of a rotation failed: its held-back successor is dropped and its Redis claim
   * given back (refresh-rotation.ts). Never rejects.
   */
  abandonRotation(refreshTokenId: string, successorId?: string): Promise<void>;
  /**
   * Runs one refresh grant (token endpoint, `grant_type=refresh_token`) presenting `refreshToken`:
   * its own find of that token reads one document, not two (refresh-rotation.ts inRefreshGrant).
   */
  inRefreshGrant<T>(refreshToken: string, run: () => T): T;
  /** The grant revoked because the current refresh grant's token was reused, if any. */
  reusedGrant(): string | undefined;
  /**
   * The client's client_credentials tokens were deleted from the stores directly (revocation.ts):
   * every instance drops its cached copies (record-cache.ts).
   */
  clientTokensRevoked(clientId: string): Promise<void>;
  /**
   * Runs a finished sign-in step and the resume it runs in the same request: the interaction
   * `uid`'s save is held back until the resume reads or destroys it (interaction-hand-off.ts).
   */
  handOffInteraction<T>(uid: string, run: () => Promise<T>): Promise<T>;
}

function admitting(adapter: Adapter, admits: (payload: AdapterPayload) => Promise<boolean>): Adapter {
  return {
    ...adapter,
    find: async (id) => {
      const payload = await adapter.find(id);
      return payload === undefined || (await guard(admits(payload))) ? payload : undefined;
    },
  };
}

export function createAdapterFactory(deps: AdapterFactoryDeps): RoutedAdapterFactory {
  const { redis, clients, records } = deps;
  const common = { reuseWindowSeconds: deps.reuseWindowSeconds, onOperation: deps.onOperation, now: deps.now ?? Date.now };
  const mongoAdapter = createMongoAdapterFactory({
    connection: deps.mongo,
    ...common,
    deferRotationSuccessors: deps.deferRotationSuccessors ?? false,
    // With Redis, rotations are claimed there and write MongoDB once (rotation-gate.ts).
    rotationGate: redis === undefined ? undefined : createRedisRotationGate(redis, deps.redisPrefix),
    // A reuse the refresh grant's storage found out itself revokes the grant as the library would.
    revokeReusedGrant: (grantId) => revokeGrant(grantId),
  });
  const redisAdapter = redis === undefined ? undefined : createRedisAdapterFactory({ redis, prefix: deps.redisPrefix, ...common });

  const now = deps.now ?? Date.now;
  const replayClaims = redis === undefined || !SHORT_LIVED_MODELS.has(REPLAY_DETECTION) ? mongoReplayClaims(deps.mongo, now) : redisReplayClaims(redis, deps.redisPrefix);

  const revocations = new Map<string, Promise<void>>();
  function revokeEverywhere(model: string, grantId: string): Promise<void> {
    let pass = revocations.get(grantId);
    if (pass === undefined) {
      const revoke = () =>
        Promise.all([
          mongoAdapter(model).revokeByGrantId(grantId),
          redisAdapter?.(model).revokeByGrantId(grantId),
        ]).then(() => {});
      // The Grant record itself is destroyed separately; its cached copy and its tokens' go now
      // either way, announced once with the grant's destroy when the library runs both at once.
      pass = records === undefined ? revoke() : records.changingGrant(grantId, revoke);
      const settled = pass.finally(() => revocations.delete(grantId));
      settled.catch(() => {});
      revocations.set(grantId, pass);
    }
    return pass;
  }

  /** What the library's revoke does at the token endpoint (lib/helpers/revoke.js): every token of the grant, then the grant. */
  async function revokeGrant(grantId: string): Promise<void> {
    await Promise.all([revokeEverywhere('RefreshToken', grantId), factory('Grant').destroy(grantId)]);
  }

  /**
   * A code (device code, CIBA request) redeemed twice at once: both redemptions found it
   * unconsumed, so the library's own reuse check passed in both, and the adapter's gate refused
   * the second. That second one revokes the grant before its invalid_grant goes out, as the
   * library does when it sees the code consumed, so the first one's tokens die with it (a token
   * saved after this still names a grant that no longer exists: introspection, userinfo and
   * refresh all refuse it). The error names the grant for the `grant.revoked` event.
   */
  async function consumeGrantSource(primary: Adapter | ReadAtOnceAdapter, id: string): Promise<void> {
    try {
      await primary.consume(id);
    } catch (error) {
      if (!isAlreadyConsumed(error)) throw error;
      const grantId = (await primary.find(id))?.grantId;
      if (typeof grantId !== 'string') throw error;
      await revokeGrant(grantId);
      throw withRevokedGrant(error, grantId);
    }
  }

  // With the interactions in Redis, the resume's destroy of one rides on the code's save (interaction-hand-off.ts).
  const interactionsInRedis = redisAdapter !== undefined && SHORT_LIVED_MODELS.has('Interaction');
  const handOff = createInteractionHandOff({ deferDestroy: interactionsInRedis });
  const adapters = new Map<string, Adapter>();
  const factory = (model: string): Adapter => {
    let adapter = adapters.get(model);
    if (adapter === undefined) {
      const inRedis = redisAdapter !== undefined && SHORT_LIVED_MODELS.has(model) ? redisAdapter(model) : undefined;
      const primary = model === 'Client' && clients !== undefined ? clients : (inRedis ?? mongoAdapter(model));
      // Another short-lived record's save carries the interaction destroy a resume deferred (one Redis round trip for both).
      const carries = primary === inRedis && interactionsInRedis && model !== 'Interaction';
      const routed: Adapter = {
        upsert: carries ? (id, payload, expiresIn) => guard(handOff.alongside(() => primary.upsert(id, payload, expiresIn))) : (id, payload, expiresIn) => guard(primary.upsert(id, payload, expiresIn)),
        // A find that claims: the replay check is atomic in the store (replay-claims.ts).
        find: model === REPLAY_DETECTION ? (id) => guard(replayClaims.claim(id)) : (id) => guardRead(primary.find(id)),
        findByUid: (uid) => guard(primary.findByUid(uid)),
        findByUserCode: (userCode) => guard(primary.findByUserCode(userCode)),
        consume: GRANT_SOURCE_MODELS.has(model) ? (id) => guard(consumeGrantSource(primary, id)) : (id) => guard(primary.consume(id)),
        destroy: (id) => guard(primary.destroy(id)),
        revokeByGrantId: (grantId) => guard(revokeEverywhere(model, grantId)),
      };
      adapter = records === undefined ? routed : records.wrap(model, routed);
      if (model === 'Interaction') adapter = handOff.wrap(adapter);
      if (model === 'Grant' && deps.dependentGrants !== undefined) {
        const cascading = withDependentGrants(adapter, { ...deps.dependentGrants, mongo: deps.mongo, revokeTokens: (grantId) => revokeEverywhere('Grant', grantId), now });
        // The whole removal is one change of the grant, begun at once: with the library's
        // revocation of its tokens beside it, the other instances get one notice (record-cache.ts).
        const destroy = records === undefined ? cascading.destroy : (id: string) => records.changingGrant(id, () => cascading.destroy(id));
        const guarded: DependentGrantsAdapter = { ...cascading, destroy: (id) => guard(destroy(id)), destroyListed: (ids) => guard(cascading.destroyListed(ids)), destroyOf: (id, accountId) => guard(cascading.destroyOf(id, accountId)) };
        adapter = guarded;
      }
      const admits = deps.admits?.[model];
      if (admits !== undefined) adapter = admitting(adapter, admits);
      adapters.set(model, adapter);
    }
    return adapter;
  };
  return Object.assign(factory, {
    completeRotation: (id: string, successorId?: string) => guard(mongoAdapter.completeRotation(id, successorId)),
    abandonRotation: (id: string, successorId?: string) => mongoAdapter.abandonRotation(id, successorId),
    inRefreshGrant: mongoAdapter.inRefreshGrant,
    reusedGrant: mongoAdapter.reusedGrant,
    clientTokensRevoked: async (clientId: string) => records?.clientTokensRevoked(clientId),
    handOffInteraction: handOff.run,
  });
}
