import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createMongoAdapterFactory, ROTATION_IN_FLIGHT_MS } from '../../src/storage/oidc/mongo-adapter.ts';
import { ensureOidcIndexes } from '../../src/storage/oidc/mongo-indexes.ts';
import { createRedisAdapterFactory } from '../../src/storage/oidc/redis-adapter.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { TestFerret } from '../helpers/ferret.ts';
import { emptyDatabaseUri, recycleDatabase, serviceUrls } from '../helpers/stores.ts';

const id = () => randomBytes(12).toString('base64url');
const refreshToken = () => ({ kind: 'RefreshToken', grantId: id(), accountId: 'a', clientId: 'c' }) as AdapterPayload;

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { error?: string }) => error.error ?? 'unexpected error',
  );
}

/** A store's refresh-token adapter on a clock the test moves; `rotated` is what the refresh grant's response step does. */
interface Tokens {
  readonly adapter: Adapter;
  rotated(key: string): Promise<void>;
}

interface Harness {
  tokens(window: number, model?: string): Tokens;
  advance(ms: number): void;
  close(): Promise<void>;
}

function describeReuseWindow(store: string, open: () => Promise<Harness>) {
  describe(`refresh-token reuse window (${store})`, () => {
    let harness: Harness;
    before(async () => {
      harness = await open();
    });
    after(() => harness.close());

    async function rotate(tokens: Tokens, key: string): Promise<void> {
      await tokens.adapter.consume(key);
      await tokens.rotated(key);
    }

    it('reports a rotated refresh token as unconsumed inside the window and accepts its reuse', async () => {
      const tokens = harness.tokens(2);
      const key = id();
      await tokens.adapter.upsert(key, refreshToken(), 60);
      await rotate(tokens, key);
      expect(await tokens.adapter.find(key)).not.to.have.property('consumed');
      expect(await rejection(tokens.adapter.consume(key))).to.equal(undefined);
      expect(await tokens.adapter.find(key)).not.to.have.property('consumed');
    });

    it('counts the window from the first consumption: reuse does not extend it', async () => {
      const tokens = harness.tokens(2);
      const key = id();
      await tokens.adapter.upsert(key, refreshToken(), 60);
      await rotate(tokens, key);
      harness.advance(1_200);
      await rotate(tokens, key);
      expect(await tokens.adapter.find(key)).not.to.have.property('consumed');
      harness.advance(1_000);
      expect(await tokens.adapter.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.adapter.consume(key))).to.equal('invalid_grant');
    });

    it('reports the token consumed after the window, so the library revokes the grant on reuse', async () => {
      const tokens = harness.tokens(1);
      const key = id();
      await tokens.adapter.upsert(key, refreshToken(), 60);
      await rotate(tokens, key);
      harness.advance(1_100);
      expect(await tokens.adapter.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.adapter.consume(key))).to.equal('invalid_grant');
    });

    it('is strict with a window of 0', async () => {
      const tokens = harness.tokens(0);
      const key = id();
      await tokens.adapter.upsert(key, refreshToken(), 60);
      await rotate(tokens, key);
      expect(await tokens.adapter.find(key)).to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.adapter.consume(key))).to.equal('invalid_grant');
    });

    it('never applies to authorization codes', async () => {
      const codes = harness.tokens(10, 'AuthorizationCode').adapter;
      const key = id();
      await codes.upsert(key, { kind: 'AuthorizationCode', grantId: id() } as AdapterPayload, 60);
      await codes.consume(key);
      expect(await codes.find(key)).to.have.property('consumed');
      expect(await rejection(codes.consume(key))).to.equal('invalid_grant');
    });
  });
}

/** OIDC records on an emptied database of the test server given back by close(), or on the server at `uri`. */
async function mongoHarness(label: string, own?: { uri: string }): Promise<Harness & { connection: Connection }> {
  const uri = own?.uri ?? emptyDatabaseUri(label);
  const connection: Connection = await connectMongo({ uri, timeoutMs: 2000 });
  await ensureOidcIndexes(connection);
  let clock = Date.now();
  return {
    connection,
    tokens(window, model = 'RefreshToken') {
      const factory = createMongoAdapterFactory({ connection, reuseWindowSeconds: window, now: () => clock });
      return { adapter: factory(model), rotated: (key) => factory.completeRotation(key) };
    },
    advance(ms) {
      clock += ms;
    },
    async close() {
      await connection.close();
      if (own === undefined) await recycleDatabase(uri);
    },
  };
}

describeReuseWindow('MongoDB', () => mongoHarness('reuse'));

describeReuseWindow('Redis', async () => {
  const redis: Redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 5000 });
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  let clock = Date.now();
  return {
    tokens(window, model = 'RefreshToken') {
      // Refresh tokens live in MongoDB (docs/STORAGE.md); the Redis adapter marks at consume.
      return { adapter: createRedisAdapterFactory({ redis, prefix, reuseWindowSeconds: window, now: () => clock })(model), rotated: async () => {} };
    },
    advance(ms) {
      clock += ms;
    },
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
});

describe('refresh-token rotation that never completed (MongoDB)', () => {
  let harness: Awaited<ReturnType<typeof mongoHarness>>;
  before(async () => {
    harness = await mongoHarness('rotation');
  });
  after(() => harness.close());

  for (const window of [10, 0]) {
    it(`leaves the token usable long after the window when no successor was handed out (window ${window} s), and stays strict after a completed one`, async () => {
      const tokens = harness.tokens(window);
      const key = id();
      await tokens.adapter.upsert(key, refreshToken(), 3600);
      // The refresh grant consumed the token, then saving its successor failed: no completion.
      await tokens.adapter.consume(key);
      harness.advance(Math.max(ROTATION_IN_FLIGHT_MS, window * 1000) + 60_000);
      expect(await tokens.adapter.find(key), 'not reported as reuse').not.to.have.property('consumed');
      expect(await rejection(tokens.adapter.consume(key)), 'the retry rotates').to.equal(undefined);
      await tokens.rotated(key);
      harness.advance(window * 1000 + 1);
      expect(await tokens.adapter.find(key), 'real reuse after a completed rotation').to.have.property('consumed').that.is.a('number');
      expect(await rejection(tokens.adapter.consume(key))).to.equal('invalid_grant');
    });
  }

  it('refuses a second rotation while the first may still be in flight (strict window of 0), without marking the token used', async () => {
    const tokens = harness.tokens(0);
    const key = id();
    await tokens.adapter.upsert(key, refreshToken(), 3600);
    await tokens.adapter.consume(key);
    harness.advance(ROTATION_IN_FLIGHT_MS - 1_000);
    expect(await rejection(tokens.adapter.consume(key))).to.equal('invalid_grant');
    expect(await tokens.adapter.find(key)).not.to.have.property('consumed');
  });

  it('gives one winner when two retries take over an abandoned rotation at once', async () => {
    const tokens = harness.tokens(0);
    const key = id();
    await tokens.adapter.upsert(key, refreshToken(), 3600);
    await tokens.adapter.consume(key);
    harness.advance(ROTATION_IN_FLIGHT_MS + 1_000);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => rejection(tokens.adapter.consume(key))));
    expect(outcomes.filter((outcome) => outcome === undefined)).to.have.length(1);
    expect(outcomes.filter((outcome) => outcome === 'invalid_grant')).to.have.length(3);
  });
});

describe('refresh-token rotation with MongoDB killed mid-rotation (test-owned FerretDB)', () => {
  let ferret: TestFerret;
  let harness: Awaited<ReturnType<typeof mongoHarness>>;
  before(async () => {
    ferret = await TestFerret.start();
    harness = await mongoHarness('rotation_kill', { uri: ferret.uri('rotation_kill') });
  });
  after(async () => {
    await harness?.close().catch(() => {});
    await ferret?.remove();
  });

  it('keeps the old token valid when the store dies between consuming it and saving its successor', async () => {
    const tokens = harness.tokens(10);
    const key = id();
    const payload = refreshToken();
    await tokens.adapter.upsert(key, payload, 3600);
    await tokens.adapter.consume(key);
    await ferret.stop();
    expect(await rejection(tokens.adapter.upsert(id(), { ...payload, rotations: 1 } as AdapterPayload, 3600)), 'the successor is not saved').to.not.equal(undefined);
    await ferret.start();
    harness.advance(5 * 60_000);
    expect(await tokens.adapter.find(key)).not.to.have.property('consumed');
    expect(await rejection(tokens.adapter.consume(key))).to.equal(undefined);
    await tokens.rotated(key);
    harness.advance(5 * 60_000);
    expect(await rejection(tokens.adapter.consume(key)), 'strict for real reuse').to.equal('invalid_grant');
  });
});
