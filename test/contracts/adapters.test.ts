import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createAdapterFactory } from '../../src/storage/oidc/adapter-factory.ts';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { createRedisAdapterFactory } from '../../src/storage/oidc/redis-adapter.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { memoryAdapterFactory } from '../helpers/memory-adapter.ts';
import { freshDatabaseUri, serviceUrls } from '../helpers/stores.ts';
import { describeAdapterContract } from './adapter-contract.ts';

const quiet = { warn: () => {} };

async function freshMongo(label: string): Promise<Connection> {
  const connection = await connectMongo({ uri: freshDatabaseUri(label), timeoutMs: 5000 });
  await ensureOidcIndexes(connection, quiet);
  return connection;
}

async function closeMongo(connection: Connection): Promise<void> {
  await connection.dropDatabase();
  await connection.close();
}

async function freshRedis(): Promise<{ redis: Redis; prefix: string; close(): Promise<void> }> {
  const redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  return {
    redis,
    prefix,
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

describeAdapterContract('oidc-provider in-memory adapter (reference)', { atomicConsume: false }, async () => ({
  adapter: memoryAdapterFactory(),
  close: async () => {},
}));

describeAdapterContract('MongoDB adapter (FerretDB)', { atomicConsume: true }, async () => {
  const connection = await freshMongo('contract_mongo');
  return {
    adapter: createMongoAdapterFactory({ connection, reuseWindowSeconds: 0 }),
    close: () => closeMongo(connection),
  };
});

describeAdapterContract('Redis adapter', { atomicConsume: true }, async () => {
  const store = await freshRedis();
  return {
    adapter: createRedisAdapterFactory({ redis: store.redis, prefix: store.prefix, reuseWindowSeconds: 0 }),
    close: () => store.close(),
  };
});

describeAdapterContract('routing adapter (MongoDB + Redis)', { atomicConsume: true }, async () => {
  const connection = await freshMongo('contract_router');
  const store = await freshRedis();
  return {
    adapter: createAdapterFactory({ mongo: connection, redis: store.redis, redisPrefix: store.prefix, reuseWindowSeconds: 0 }),
    async close() {
      await store.close();
      await closeMongo(connection);
    },
  };
});
