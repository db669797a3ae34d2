import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createMongoAdapterFactory } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { createRedisAdapterFactory } from '../../src/storage/oidc/redis-adapter.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { freshDatabaseUri, serviceUrls } from '../helpers/stores.ts';

const id = () => randomBytes(12).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const refreshToken = () => ({ kind: 'RefreshToken', grantId: id(), accountId: 'a', clientId: 'c' }) as AdapterPayload;

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { error?: string }) => error.error ?? 'unexpected error',
  );
}

type Factory = (window: number) => (model: string) => Adapter;

function describeReuseWindow(store: string, open: () => Promise<{ factory: Factory; close(): Promise<void> }>) {
  describe(`refresh-token reuse window (${store})`, () => {
    let factory: Factory;
    let close: () => Promise<void>;
    before(async () => {
      ({ factory, close } = await open());
    });
    after(() => close());

    it('reports a rotated refresh token as unconsumed inside the window and accepts its reuse', async () => {
      const tokens = factory(2)('RefreshToken');
      const key = id();
      await tokens.upsert(key, refreshToken(), 60);
      await tokens.consume(key);
      expect(await tokens.find(key)).not.to.have.property('consumed');
      expect(await rejection(tokens.consume(key))).to.equal(undefined);
      expect(await tokens.find(key)).not.to.have.property('consumed');
    });

    it('counts the window from the first consumption: reuse does not extend it', async () => {
      const tokens = factory(2)('RefreshToken');
      const key = id();
      await tokens.upsert(key, refreshToken(), 60);
      await tokens.consume(key);
      await sleep(1_200);
      await tokens.consume(key);
      expect(await tokens.find(key)).not.to.have.property('consumed');
      await sleep(1_000);
      expect(await tokens.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.consume(key))).to.equal('invalid_grant');
    });

    it('reports the token consumed after the window, so the library revokes the grant on reuse', async () => {
      const tokens = factory(1)('RefreshToken');
      const key = id();
      await tokens.upsert(key, refreshToken(), 60);
      await tokens.consume(key);
      await sleep(1_100);
      expect(await tokens.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.consume(key))).to.equal('invalid_grant');
    });

    it('is strict with a window of 0', async () => {
      const tokens = factory(0)('RefreshToken');
      const key = id();
      await tokens.upsert(key, refreshToken(), 60);
      await tokens.consume(key);
      expect(await tokens.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.consume(key))).to.equal('invalid_grant');
    });

    it('never applies to authorization codes', async () => {
      const codes = factory(10)('AuthorizationCode');
      const key = id();
      await codes.upsert(key, { kind: 'AuthorizationCode', grantId: id() } as AdapterPayload, 60);
      await codes.consume(key);
      expect(await codes.find(key)).to.have.property('consumed');
      expect(await rejection(codes.consume(key))).to.equal('invalid_grant');
    });
  });
}

describeReuseWindow('MongoDB', async () => {
  const connection: Connection = await connectMongo({ uri: freshDatabaseUri('reuse'), timeoutMs: 5000 });
  await ensureOidcIndexes(connection);
  return {
    factory: (window) => createMongoAdapterFactory({ connection, reuseWindowSeconds: window }),
    async close() {
      await connection.dropDatabase();
      await connection.close();
    },
  };
});

describeReuseWindow('Redis', async () => {
  const redis: Redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  return {
    factory: (window) => createRedisAdapterFactory({ redis, prefix, reuseWindowSeconds: window }),
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
});
