import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import type { OperationReport } from '../../src/storage/oidc/operation-hook.ts';
import { createRecordCache } from '../../src/storage/oidc/record-cache.ts';
import { createRedisAdapterFactory } from '../../src/storage/oidc/redis-adapter.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { memoryAdapterFactory } from '../helpers/memory-adapter.ts';
import { emptyDatabaseUri, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { describeAdapterContract } from './adapter-contract.ts';

/** OIDC collections on an emptied database of their own; closeMongo() gives it back. */
async function freshMongo(label: string): Promise<{ connection: Connection; uri: string }> {
  const uri = emptyDatabaseUri(label);
  const connection = await connectMongo({ uri, timeoutMs: 5000 });
  await ensureOidcIndexes(connection);
  return { connection, uri };
}

async function closeMongo({ connection, uri }: { connection: Connection; uri: string }): Promise<void> {
  await connection.close();
  await recycleDatabase(uri);
}

async function freshRedis(): Promise<{ redis: Redis; prefix: string; pass(ms: number): Promise<void>; close(): Promise<void> }> {
  const redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  return {
    redis,
    prefix,
    /**
     * Redis expires keys on the server's clock, which no test moves: instead every key under
     * the prefix loses `ms` of its remaining lifetime. One whose lifetime runs out is removed,
     * as expiry would; one without a lifetime (PTTL -1) stays, as it would.
     */
    async pass(ms) {
      for (const key of await redis.keys(`${prefix}*`)) {
        const remaining = await redis.pttl(key);
        if (remaining > 0) await redis.pexpire(key, remaining - ms);
      }
    },
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

describeAdapterContract('oidc-provider in-memory adapter (reference)', { atomicConsume: false }, async () => {
  const clock = testClock({ frozen: true });
  return { adapter: memoryAdapterFactory(clock), now: clock.now, advance: (ms) => clock.advance(ms), close: async () => {} };
});

describeAdapterContract('MongoDB adapter (FerretDB)', { atomicConsume: true }, async () => {
  const mongo = await freshMongo('contract_mongo');
  // Expiry follows the storage clock: the suite moves it instead of waiting.
  const clock = testClock({ frozen: true });
  return {
    adapter: createMongoAdapterFactory({ connection: mongo.connection, reuseWindowSeconds: 0, now: clock.now }),
    now: clock.now,
    advance: (ms) => clock.advance(ms),
    close: () => closeMongo(mongo),
  };
});

describeAdapterContract('Redis adapter', { atomicConsume: true }, async () => {
  const store = await freshRedis();
  const clock = testClock({ frozen: true });
  return {
    adapter: createRedisAdapterFactory({ redis: store.redis, prefix: store.prefix, reuseWindowSeconds: 0, now: clock.now }),
    now: clock.now,
    async advance(ms) {
      await clock.advance(ms);
      await store.pass(ms);
    },
    close: () => store.close(),
  };
});

const reports: OperationReport[] = [];

/** The routing adapter on an emptied database and a fresh Redis prefix, with extra factory options. */
function routingAdapter(label: string, options: (clock: TestClock) => Partial<Parameters<typeof createAdapterFactory>[0]>) {
  return async () => {
    const mongo = await freshMongo(label);
    const store = await freshRedis();
    // MongoDB's expiry and the record cache follow the clock; Redis's lifetimes are shortened along with it.
    const clock = testClock({ frozen: true });
    return {
      adapter: createAdapterFactory({ mongo: mongo.connection, redis: store.redis, redisPrefix: store.prefix, reuseWindowSeconds: 0, now: clock.now, ...options(clock) }),
      now: clock.now,
      async advance(ms: number) {
        await clock.advance(ms);
        await store.pass(ms);
      },
      async close() {
        await store.close();
        await closeMongo(mongo);
      },
    };
  };
}

describeAdapterContract('routing adapter (MongoDB + Redis)', { atomicConsume: true, revokesGrantOnLostConsume: true }, routingAdapter('contract_router', () => ({ onOperation: (report) => reports.push(report) })));

describeAdapterContract(
  'routing adapter with the Session/Grant cache (MongoDB + Redis, TTL 60 s)',
  { atomicConsume: true, revokesGrantOnLostConsume: true },
  routingAdapter('contract_cached', (clock) => ({ records: createRecordCache({ ttlSeconds: 60, now: clock.now }) })),
);

describe('routing adapter operation reports', () => {
  it('reported every operation of the routing run with its model, store and duration', () => {
    const seen = (model: string, store: string, operation: string) =>
      reports.some((r) => r.model === model && r.store === store && r.operation === operation && r.durationMs >= 0);
    expect(seen('AuthorizationCode', 'redis', 'consume')).to.equal(true);
    expect(seen('AccessToken', 'redis', 'upsert')).to.equal(true);
    expect(seen('RefreshToken', 'mongodb', 'find')).to.equal(true);
    expect(seen('Session', 'mongodb', 'findByUid')).to.equal(true);
    expect(seen('AccessToken', 'mongodb', 'revokeByGrantId') && seen('AccessToken', 'redis', 'revokeByGrantId')).to.equal(true);
    // Long-lived models touch Redis only to revoke a grant's short-lived tokens there.
    expect(reports.some((r) => r.store === 'redis' && r.operation !== 'revokeByGrantId' && ['Session', 'Grant', 'RefreshToken'].includes(r.model))).to.equal(false);
  });
});
