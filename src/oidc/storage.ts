import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { AdapterPayload } from 'oidc-provider';
import { createBoundedCache } from '../cache/bounded-cache.ts';
import { createChangeChannel } from '../cache/change-channel.ts';
import type { ChangeSubscriber } from '../cache/change-subscriber.ts';
import { clientModel } from '../clients/model.ts';
import { clientProviderAdapter, type RegisteredClientHooks } from '../clients/provider-adapter.ts';
import { withJsonFingerprint } from '../clients/json-fingerprint.ts';
import { createClientRepository, revokedByClientMark, type ClientRepository } from '../clients/repository.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { createAdapterFactory, type RoutedAdapterFactory } from '../storage/oidc/adapter-factory.ts';
import type { DependentGrantsRevoked } from '../storage/oidc/dependent-grants.ts';
import { startExpirySweeper, type ExpirySweeper } from '../storage/oidc/expiry-sweeper.ts';
import { ensureOidcIndexes, type WarnLogger } from '../storage/oidc/mongo-indexes.ts';
import type { OperationHook } from '../storage/oidc/operation-hook.ts';
import { createRecordCache } from '../storage/oidc/record-cache.ts';
import { deepestFirst, exchangedGrantsPrefix, originalGrantId, parentsAmong } from './grants/exchanged-grant-ids.ts';

export interface OidcStorageDeps {
  readonly mongo: Connection;
  readonly redis: Redis | undefined;
  readonly redisPrefix: string;
  readonly reuseWindowSeconds: number;
  readonly clientCacheTtlSeconds: number;
  /** Session and Grant reads served from memory for this long; 0 = off. */
  readonly sessionCacheTtlSeconds: number;
  /** createSecretBox(secret, 'client-secrets'). */
  readonly clientSecretBox: SecretBox;
  readonly logger: WarnLogger;
  readonly onOperation?: OperationHook | undefined;
  readonly sweepIntervalMs?: number;
  /** false for one-shot processes (CLI commands): no index creation, no expiry sweeper. */
  readonly background?: boolean;
  /**
   * The instance's one subscriber connection (src/cache/change-subscriber.ts): with it, the other
   * instances' changes are listened to; without (one-shot processes, CLI commands), changes are
   * announced and none listened to.
   */
  readonly subscriber?: ChangeSubscriber | undefined;
  /** The storage clock (reuse window, expiry); tests pass a controllable one. */
  readonly now?: (() => number) | undefined;
  /**
   * After dynamic registration wrote a client (RFC 7591/7592: audit) or a client deleted itself
   * (RFC 7592: what the admin API's deletion does besides — revoke its grants and tokens, remove
   * users' consents to it, audit).
   */
  readonly registered?: RegisteredClientHooks;
  /** Told of the exchanged grants removed with the grant they were exchanged from (the audit trail). */
  readonly exchangesRevoked?: ((event: DependentGrantsRevoked) => void) | undefined;
}

export interface OidcStorage {
  /** False where the server has no TTL indexes (FerretDB v1): sweepers delete expired records. */
  readonly ttlIndexes: boolean;
  readonly adapter: RoutedAdapterFactory;
  readonly clients: ClientRepository;
  /**
   * The client record the clients cache holds for an id now, without loading it (the very object
   * the Client model's adapter is handed until the client changes): src/oidc/built-clients.ts.
   */
  heldClientRecord(clientId: string): object | undefined;
  /** Stops the expiry sweeper and the invalidation subscriber; leaves the connections open. */
  close(): Promise<void>;
}

const CLIENT_CACHE_ENTRIES = 1_000;

/** The channel on which client changes are announced to every instance. */
export function clientChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}clients:changed`;
}

/** The channel on which Session and Grant writes are announced to every instance. */
export function oidcRecordChangesChannel(redisPrefix: string): string {
  return `${redisPrefix}oidc:changed`;
}

/**
 * Everything oidc-provider stores, ready for its `adapter` option: indexes ensured, the
 * expiry sweeper running where TTL indexes are missing, clients, sessions and grants cached
 * and invalidated.
 */
export async function openOidcStorage(deps: OidcStorageDeps): Promise<OidcStorage> {
  const { mongo, redis, logger, subscriber } = deps;
  const background = deps.background ?? true;
  const indexes = background ? await ensureOidcIndexes(mongo) : undefined;
  const sweeper: ExpirySweeper | undefined =
    indexes === undefined || indexes.ttlIndexes
      ? undefined
      : startExpirySweeper({ connection: mongo, collections: indexes.collections, intervalMs: deps.sweepIntervalMs ?? 60_000, logger, ...(deps.now === undefined ? {} : { now: deps.now }) });

  const invalidation =
    redis === undefined ? undefined : createChangeChannel({ redis, channel: clientChangesChannel(deps.redisPrefix), logger, subscriber });
  let clients: ClientRepository | undefined;
  const cache = createBoundedCache<AdapterPayload>({
    // One object per client until it changes: the library fingerprints it on every lookup (json-fingerprint.ts).
    load: async (clientId) => {
      const metadata = await clients?.providerMetadata(clientId);
      return metadata === undefined ? undefined : (withJsonFingerprint(metadata) as AdapterPayload);
    },
    ttlMs: deps.clientCacheTtlSeconds * 1000,
    maxEntries: CLIENT_CACHE_ENTRIES,
    cacheMisses: true,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  clients = createClientRepository({
    model: clientModel(mongo),
    box: deps.clientSecretBox,
    onChange: async (clientId) => {
      cache.invalidate(clientId);
      await invalidation?.publish(clientId);
    },
  });
  const recordChanges =
    redis === undefined ? undefined : createChangeChannel({ redis, channel: oidcRecordChangesChannel(deps.redisPrefix), logger, subscriber });
  // Writes are announced even with the cache off here, for instances configured otherwise.
  const records = createRecordCache({ ttlSeconds: deps.sessionCacheTtlSeconds, announce: recordChanges?.publish, ...(deps.now === undefined ? {} : { now: deps.now }) });
  const subscriptions: Array<{ close(): Promise<void> }> = [];
  // Channels last: their close makes a last attempt at notices still waiting for Redis.
  const closeSubscriptions = async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
    await Promise.all([invalidation?.close(), recordChanges?.close()]);
  };
  try {
    const clientSubscription = subscriber === undefined ? undefined : await invalidation?.subscribe(
      (clientId) => cache.invalidate(clientId),
      () => cache.clear(),
    );
    if (clientSubscription !== undefined) subscriptions.push(clientSubscription);
    if (subscriber !== undefined && deps.sessionCacheTtlSeconds > 0) {
      // While the subscription is lost nothing is served from memory: a notice missed then
      // cannot leave a stale copy behind (docs/STORAGE.md, *Change notices*).
      const recordSubscription = await recordChanges?.subscribe(
        (notice) => records.receive(notice),
        () => records.clear(),
        () => records.suspend(),
      );
      if (recordSubscription !== undefined) subscriptions.push(recordSubscription);
    }
  } catch (error) {
    await Promise.all([sweeper?.stop(), closeSubscriptions()]);
    throw error;
  }

  const clientAdapter = clientProviderAdapter(clients, cache, deps.registered);
  const adapter = createAdapterFactory({
    mongo,
    redis,
    redisPrefix: deps.redisPrefix,
    reuseWindowSeconds: deps.reuseWindowSeconds,
    onOperation: deps.onOperation,
    clients: clientAdapter,
    records,
    // A bulk revocation marks the client, then deletes its opaque client_credentials tokens (in
    // Redis by a scan): one being issued meanwhile may land where the scan has passed. Its `iat`
    // is not after the mark, so it is refused at every read, as the client's JWTs are. The
    // client comes from the Client model's cache, which the provider read for this request anyway.
    admits: {
      ClientCredentials: async (payload) =>
        typeof payload.clientId !== 'string' || !revokedByClientMark((await clientAdapter.find(payload.clientId)) as Record<string, unknown> | undefined, payload.iat),
    },
    ...(deps.now === undefined ? {} : { now: deps.now }),
    // The server ends every rotation in completeRotation or abandonRotation (src/oidc/refresh-rotation.ts).
    deferRotationSuccessors: true,
    // A token exchange's grants go with the grant of the token they were exchanged for, whoever removes it.
    dependentGrants: { prefixOf: exchangedGrantsPrefix, firstOf: originalGrantId, parentsAmong, deepestFirst, revoked: deps.exchangesRevoked },
  });

  return {
    // A one-shot process does not look (and says nothing about it).
    ttlIndexes: indexes?.ttlIndexes ?? true,
    adapter,
    clients,
    heldClientRecord: (clientId) => cache.peek(clientId),
    async close() {
      await Promise.all([sweeper?.stop(), closeSubscriptions()]);
    },
  };
}
