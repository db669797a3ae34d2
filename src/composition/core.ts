import type { Redis } from 'ioredis';
import { openClaimScopes } from '../claims/claim-scopes.ts';
import { claimScopeModel } from '../claims/model.ts';
import type { Connection } from 'mongoose';
import { startAccountLayer, type AccountLayer } from '../accounts/setup.ts';
import { createChangeSubscriber } from '../cache/change-subscriber.ts';
import { dateClock, systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config/load.ts';
import { createSecretBox } from '../crypto/secret-box.ts';
import { StartupError } from '../errors/startup-error.ts';
import { keyChangeNotices, type KeyNotices } from '../keys/change-notice.ts';
import type { KeyControl } from '../keys/key-control.ts';
import { createKeyStore, type KeyStore } from '../keys/key-store.ts';
import { keySetModel } from '../keys/model.ts';
import { startAuditRetention } from '../observability/audit-retention.ts';
import { indexesMarked, markIndexes } from '../storage/index-mark.ts';
import { insertCommand } from '../storage/insert-command.ts';
import { isFerretDbV1 } from '../storage/server-kind.ts';
import { ensureAuditIndexes, migrateLegacyAuditEvents } from '../observability/audit-collection-setup.ts';
import { AUDIT_COLLECTION, auditCollection, createAuditTrail, type AuditTrail } from '../observability/audit-trail.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createPasskeys } from '../mfa/passkeys.ts';
import { createSessionDevices } from '../sessions/devices.ts';
import { createConsentRecords } from '../consents/records.ts';
import { openFactors } from '../mfa/setup.ts';
import { startUsedStepExpiry } from '../mfa/used-step-expiry.ts';
import { auditFactors, auditPasskeys } from '../mfa/audit.ts';
import { auditAuthentication } from '../accounts/sign-in-audit.ts';
import { openAccountCache, type AccountCache } from '../oidc/account-cache.ts';
import { dependentGrantsRevokedEvents } from '../oidc/grants/exchange-audit.ts';
import { registeredClientEvent } from '../oidc/registration-audit.ts';
import { openOidcStorage, type OidcStorage } from '../oidc/storage.ts';
import { createServices, type GatehouseServices, type ServicesDeps } from '../services.ts';
import { openRuntimeSettings } from '../settings/runtime.ts';
import { createUpstreamDirectory, ensureUpstreamIndexes } from '../upstream/directory.ts';
import { startUpstreamExpiry } from '../upstream/expiry.ts';
import { openUpstreamProviderList } from '../upstream/provider-list.ts';
import { watchMongoCommands, watchRedisCommands, type StoreCommandListener } from '../storage/command-watch.ts';
import { connectMongo } from '../storage/mongo.ts';
import { connectRedis, RedisConnectError } from '../storage/redis.ts';

// Raised when a backing service cannot be reached at startup; names the setting.
export { StartupError };

export interface Stores {
  readonly mongo: Connection;
  readonly redis: Redis | undefined;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens MongoDB and (when configured) Redis, naming the setting when one cannot be reached.
 * `onCommand` hears every command the two connections send (tests count round trips with it).
 */
export async function openStores(config: Config, onCommand?: StoreCommandListener): Promise<Stores> {
  let mongo: Connection;
  try {
    mongo = await connectMongo({ uri: config.mongodbUri.reveal(), timeoutMs: config.mongodbTimeoutMs, watchCommands: onCommand !== undefined });
    if (onCommand !== undefined) watchMongoCommands(mongo, onCommand);
  } catch (error) {
    throw new StartupError('MONGODB_URI', `cannot connect to MongoDB (${reason(error)})`);
  }
  if (config.redisUrl === undefined) return { mongo, redis: undefined };
  try {
    const redis = await connectRedis({ url: config.redisUrl.reveal(), timeoutMs: config.redisTimeoutMs });
    if (onCommand !== undefined) watchRedisCommands(redis, onCommand);
    return { mongo, redis };
  } catch (error) {
    await mongo.close();
    throw new StartupError('REDIS_URL', error instanceof RedisConnectError ? error.message : `cannot connect to Redis (${reason(error)})`);
  }
}

export async function closeStores({ mongo, redis }: Stores): Promise<void> {
  await mongo.close();
  if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
}

export interface CoreOptions {
  /**
   * `server`: background work too (indexes, expiry sweeper, cache subscriptions, audit
   * retention, the hashing pool's metrics). `command`: one-shot processes (CLI commands) that
   * change things and announce the changes to the running servers.
   */
  readonly mode: 'server' | 'command';
  /**
   * `command` mode: whether the command may write (default true). One that only reads (a list, a
   * show) creates no index and reads no mark; see `indexesToCreate`.
   */
  readonly writes?: boolean;
  readonly metrics?: Metrics | undefined;
  /** Gatehouse's clock (src/clock.ts): expiry, caches, keys, lockouts; tests move it. */
  readonly clock?: Clock | undefined;
  /** The clock of the second-factor checks (TOTP steps); tests move it. */
  readonly secondFactorClock?: (() => Date) | undefined;
  /** Told of each sign-in session ended outside /session/end (the server sends back-channel logout; src/oidc/session-logout.ts). */
  readonly sessionEnded?: ServicesDeps['sessionEnded'];
}

/** Gatehouse's domain over open stores: the same for the server and every CLI command. */
export interface Core {
  readonly stores: Stores;
  readonly services: GatehouseServices;
  readonly storage: OidcStorage;
  readonly accountLayer: AccountLayer;
  readonly accountCache: AccountCache;
  readonly keyStore: KeyStore;
  /** Key-change notices between instances (Redis configured), for the server's key ring and CLI rotations. */
  readonly keyNotices: KeyNotices | undefined;
  readonly audit: AuditTrail;
  /** Key control straight on the store (CLI commands; the server uses its key ring). */
  readonly keys: KeyControl;
  /** Stops what composeCore started (flushing the audit trail); leaves the stores open. */
  close(): Promise<void>;
}

/**
 * Whether this composition creates the domain's indexes (docs/STORAGE.md, *Indexes*). The server
 * does at every start, and marks the database (src/storage/index-mark.ts). A command that may
 * write relies on them — usernames, emails and a user's consent per client are unique by a unique
 * index, nothing else — so it creates them when the mark is missing or older (a database no server
 * of this version has started on): one read by `_id` where a server has run, instead of a
 * `createIndexes` per collection at every command. A command that only reads needs none: on a
 * database without them its reads scan, and it writes nothing.
 */
async function indexesToCreate(mongo: Connection, mode: CoreOptions['mode'], writes: boolean): Promise<boolean> {
  if (mode === 'server') return true;
  return writes && !(await indexesMarked(mongo.db!));
}

/** The one composition root of the domain: src/server.ts and src/cli/ both build it here. */
export async function composeCore(config: Config, logger: Logger, stores: Stores, { mode, writes = true, metrics, clock = systemClock, secondFactorClock, sessionEnded }: CoreOptions): Promise<Core> {
  const { mongo, redis } = stores;
  const server = mode === 'server';
  const indexes = await indexesToCreate(mongo, mode, writes);
  const secret = config.secret.reveal();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of closers.reverse()) await stop().catch(() => {});
    closers.length = 0;
  };
  try {
    // One Redis connection in subscribe mode for every change channel of this process (the
    // server's caches and key ring); closed last. A command has none: its caches announce their
    // changes and listen to none.
    const subscriber = server && redis !== undefined ? createChangeSubscriber({ redis, logger }) : undefined;
    if (subscriber !== undefined) closers.push(() => subscriber.close());
    const collection = auditCollection(mongo.db!);
    if (server) {
      await migrateLegacyAuditEvents(collection);
      // The audit indexes serve MongoDB; on FerretDB v1 every audit query scans anyway (no
      // pushdown of its filters or sort), so there they would only add to the cost of each event written.
      const ferretDbV1 = await isFerretDbV1(mongo.db!);
      await ensureAuditIndexes(collection, { ferretDbV1, logger });
      const retention = await startAuditRetention({ collection: mongo.db!.collection(AUDIT_COLLECTION), retentionDays: config.audit.retentionDays, logger, clock, ferretDbV1 });
      closers.push(async () => retention?.stop());
    }
    const audit = createAuditTrail({ collection, insert: insertCommand(mongo.db!, AUDIT_COLLECTION), logger, clock, clientCredentials: config.audit.clientCredentials, ...(metrics === undefined ? {} : { onDropped: (count: number) => metrics.auditDropped(count) }) });
    closers.push(() => audit.close());

    const consents = await createConsentRecords({ connection: mongo, now: dateClock(clock), indexes });
    const storage = await openOidcStorage({
      mongo,
      redis,
      redisPrefix: config.redisPrefix,
      reuseWindowSeconds: config.refreshReuseWindowSeconds,
      clientCacheTtlSeconds: config.clientCacheTtlSeconds,
      sessionCacheTtlSeconds: server ? config.sessionCacheTtlSeconds : 0,
      clientSecretBox: createSecretBox(secret, 'client-secrets'),
      logger,
      background: server,
      subscriber,
      now: clock.now,
      registered: {
        saved: (write) => audit.write(registeredClientEvent(write)),
        // RFC 7592 DELETE: what the admin API's deletion does besides (src/operations/clients.ts), the
        // client its own actor. `services` exists by then: no request is served before composition ends.
        deleted: async (clientId) => {
          const revoked = await services.revocation.revokeByClientId(clientId);
          const removed = await consents.removeForClient(clientId);
          await audit.write({ actor: { type: 'client', id: clientId }, client: clientId, type: 'client.deleted', target: { type: 'client', id: clientId }, details: { revoked, consents: removed } });
        },
      },
      // Each exchanged grant removed with the grant it stood on: src/operations/sessions.ts.
      exchangesRevoked: (revoked) => {
        for (const event of dependentGrantsRevokedEvents(revoked)) audit.record(event);
      },
      ...(metrics === undefined ? {} : { onOperation: (report) => metrics.onOperation(report) }),
    });
    closers.push(() => storage.close());

    const accountCache = await openAccountCache({
      redis,
      redisPrefix: config.redisPrefix,
      ttlSeconds: server ? config.accountCacheTtlSeconds : 0,
      logger,
      subscriber,
      now: clock.now,
    });
    closers.push(() => accountCache.close());

    // Runtime settings first: the account layer reads the password policy and the lockout thresholds from them.
    const runtimeSettings = await openRuntimeSettings({ config, mongo, redis, logger, subscriber, now: clock.now });
    closers.push(() => runtimeSettings.close());

    const auditSignIn = auditAuthentication(audit);
    const accountLayer = await startAccountLayer({
      config,
      policies: { password: runtimeSettings.passwordPolicyNow, lockout: runtimeSettings.lockoutPolicyNow, defaultRoles: runtimeSettings.defaultRolesNow },
      clock,
      mongo,
      redis,
      redisPrefix: config.redisPrefix,
      logger,
      onUserChange: accountCache.onUserChange,
      indexes,
      // Every writer, marked database or not: a command must not store old and new email keys side by side.
      migrate: server || writes,
      ...(metrics === undefined ? {} : { onHash: (event) => metrics.onHash(event), onInFlightWait: (outcome) => metrics.signInWait(outcome) }),
      onAuthentication: (event) => {
        metrics?.onAuthentication(event);
        auditSignIn(event);
      },
    });
    closers.push(() => accountLayer.close());

    const factors = await openFactors({ mongo, secret, limiter: accountLayer.limiter, otpPolicy: runtimeSettings.otpPolicyNow, onEvent: auditFactors(audit), now: secondFactorClock ?? dateClock(clock), indexes });
    const passkeys = await createPasskeys({ connection: mongo, issuer: config.issuer, rpName: config.pages.brandName, onEvent: auditPasskeys(audit), now: dateClock(clock), indexes });
    if (!passkeys.usable) {
      logger.warn({ issuer: config.issuer }, 'passkeys are not offered: the issuer\'s host is an IP address, and WebAuthn needs a domain name as its relying party id (use a domain, or localhost for development)');
    }
    const sessionDevices = await createSessionDevices({ connection: mongo, logger, clock, indexes });
    closers.push(() => sessionDevices.close());
    const upstream = await openUpstreamProviderList({
      directory: createUpstreamDirectory({ mongo, box: createSecretBox(secret, 'upstream-secrets'), now: dateClock(clock) }),
      redis,
      redisPrefix: config.redisPrefix,
      logger,
      subscriber,
      now: clock.now,
    });
    closers.push(() => upstream.close());
    const claimScopes = await openClaimScopes({ model: claimScopeModel(mongo), redis, redisPrefix: config.redisPrefix, logger, subscriber, watch: server, now: dateClock(clock) });
    closers.push(() => claimScopes.close());
    const services = createServices({
      claimScopes,
      factors,
      passkeys,
      sessionDevices,
      consents,
      runtimeSettings,
      config,
      mongo,
      redis,
      accounts: accountLayer.accounts,
      clients: storage.clients,
      adapter: storage.adapter,
      audit,
      onUserChange: accountCache.onUserChange,
      upstream,
      clock,
      logger,
      sessionEnded,
    });
    if (server) {
      await ensureUpstreamIndexes(mongo);
      const upstreamSweeper = await startUpstreamExpiry({ mongo, logger, now: dateClock(clock), onClockJump: clock.onJump });
      if (upstreamSweeper !== undefined) closers.push(async () => upstreamSweeper.stop());
      const usedStepSweeper = await startUsedStepExpiry({ mongo, logger, now: secondFactorClock ?? dateClock(clock), onClockJump: clock.onJump });
      if (usedStepSweeper !== undefined) closers.push(async () => usedStepSweeper.stop());
    }
    const keyStore = createKeyStore({ model: keySetModel(mongo), box: createSecretBox(secret, 'keys'), now: dateClock(clock) });
    const keyNotices = redis === undefined ? undefined : keyChangeNotices({ redis, redisPrefix: config.redisPrefix, logger, subscriber });
    if (keyNotices !== undefined) closers.push(() => keyNotices.close());
    const keys: KeyControl = {
      keySet: () => keyStore.load(),
      async rotate() {
        const result = await keyStore.rotate({ publishDelayMs: config.keys.publishDelayMs, retentionMs: config.keys.retentionMs });
        let announced = false;
        if (result.rotated && keyNotices !== undefined) {
          announced = await keyNotices.announceNow(result.keySet.version).then(
            () => true,
            () => false,
          );
        }
        return { ...result, announced };
      },
    };
    // Only once every index above exists: a command that reads the mark then relies on them.
    if (indexes) await markIndexes(mongo.db!);
    return { stores, services, storage, accountLayer, accountCache, keyStore, keyNotices, audit, keys, close };
  } catch (error) {
    await close();
    throw error;
  }
}
