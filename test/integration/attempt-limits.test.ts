import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { openAttemptLimits, type AttemptLimits } from '../../src/limits/attempt-limits.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { watchMongoCommands, watchRedisCommands } from '../../src/storage/command-watch.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { connectRedis } from '../../src/storage/redis.ts';
import { databaseForSuite, serviceUrls } from '../helpers/stores.ts';

const LIMIT = 3;
const WINDOW_SECONDS = 60;
const CLEAN_CACHE_MS = 1000;

for (const backend of ['redis', 'mongo'] as const) {
  describe(`attempt limits: the clean-key cache (counters in ${backend === 'redis' ? 'Redis' : 'MongoDB-wire'})`, () => {
    const database = databaseForSuite(`attempts_${backend}`);
    const prefix = `gh-attempts-${Date.now()}:`;
    let connection: Connection;
    let redis: Redis | undefined;
    let clock = Date.now();
    /** Two Gatehouse instances' limits on the same stores, on one controllable clock. */
    let a: AttemptLimits;
    let b: AttemptLimits;
    let n = 0;
    /** Reads of the counters this file's connections sent: Redis GET commands, or MongoDB-wire find commands. */
    let reads = 0;

    before(async () => {
      connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
      if (backend === 'redis') redis = await connectRedis({ url: serviceUrls().redisUrl, timeoutMs: 2000 });
      // Counted at this file's own connections, not the servers' totals (INFO commandstats,
      // serverStatus), which any other connection's reads would add to.
      const read = backend === 'redis' ? 'get' : 'find';
      const listener = (store: 'mongodb' | 'redis', command: string) => {
        if (store === (backend === 'redis' ? 'redis' : 'mongodb') && command === read) reads += 1;
      };
      watchMongoCommands(connection, listener);
      if (redis !== undefined) watchRedisCommands(redis, listener);
      const deps = { redis, mongo: connection, logger: createLogger('silent'), redisPrefix: prefix, cleanCacheMs: CLEAN_CACHE_MS, now: () => clock };
      a = await openAttemptLimits(deps);
      b = await openAttemptLimits(deps);
    });
    after(async () => {
      a.close();
      b.close();
      if (redis !== undefined) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      await connection.close();
    });

    const key = () => `client-${backend}-${++n}`;

    it('blocks a key at once after the failures counted on the same instance, cached "clean" or not', async () => {
      const limiter = a.limiter('client_auth', LIMIT, WINDOW_SECONDS);
      const k = key();
      expect(limiter.knownClear?.(k), 'not asked yet: not known').to.equal(false);
      expect(await limiter.retryAfter(k)).to.equal(0); // remembered as clean
      expect(limiter.knownClear?.(k), 'remembered clean').to.equal(true);
      await limiter.fail(k);
      expect(limiter.knownClear?.(k), 'a failure counted here forgets it at once').to.equal(false);
      for (let i = 1; i < LIMIT; i++) await limiter.fail(k);
      expect(await limiter.retryAfter(k)).to.be.within(1, WINDOW_SECONDS);
      expect(limiter.knownClear?.(k), 'blocked').to.equal(false);
    });

    it('of attempts reserved together, exactly the limit go on; one taken back lets exactly one more', async () => {
      const limiter = a.limiter('user_code', LIMIT, WINDOW_SECONDS);
      const k = key();
      const waits = await Promise.all(Array.from({ length: LIMIT * 4 }, () => limiter.reserve(k)));
      expect(waits.filter((wait) => wait === 0)).to.have.length(LIMIT);
      expect(waits.filter((wait) => wait > 0).every((wait) => wait <= WINDOW_SECONDS)).to.equal(true);
      await limiter.takeBack(k);
      const again = await Promise.all(Array.from({ length: 4 }, () => limiter.reserve(k)));
      expect(again.filter((wait) => wait === 0)).to.have.length(1);
      expect(await limiter.retryAfter(k)).to.be.within(1, WINDOW_SECONDS);
    });

    it('of attempts reserved together at two instances, exactly the limit go on; the shared count loses none of them', async () => {
      const atA = a.limiter('user_code', LIMIT, WINDOW_SECONDS);
      const atB = b.limiter('user_code', LIMIT, WINDOW_SECONDS);
      const k = key();
      const burst = () => Promise.all(Array.from({ length: LIMIT * 4 }, (_, i) => (i % 2 === 0 ? atA : atB).reserve(k)));
      expect((await burst()).filter((wait) => wait === 0)).to.have.length(LIMIT);
      // Every place taken back at once, from both instances: all of them are free again.
      await Promise.all(Array.from({ length: LIMIT }, (_, i) => (i % 2 === 0 ? atA : atB).takeBack(k)));
      expect((await burst()).filter((wait) => wait === 0)).to.have.length(LIMIT);
    });

    it('remembers a clean key for cleanCacheMs, then sees failures another instance counted', async () => {
      const atA = a.limiter('client_auth', LIMIT, WINDOW_SECONDS);
      const atB = b.limiter('client_auth', LIMIT, WINDOW_SECONDS);
      const k = key();
      expect(await atA.retryAfter(k)).to.equal(0);
      for (let i = 0; i < LIMIT; i++) await atB.fail(k);
      expect(await atB.retryAfter(k), 'B counted them').to.be.above(0);
      expect(await atA.retryAfter(k), 'A answers from its cache within cleanCacheMs').to.equal(0);
      expect(atA.knownClear?.(k), 'A knows it clean within cleanCacheMs').to.equal(true);
      clock += CLEAN_CACHE_MS + 1;
      expect(atA.knownClear?.(k), 'after cleanCacheMs A no longer knows').to.equal(false);
      expect(await atA.retryAfter(k), 'after cleanCacheMs A reads the store').to.be.within(1, WINDOW_SECONDS);
    });

    it('still blocks on the failures this instance counted when the shared count is lost (a lost write, a store reset)', async () => {
      const limiter = a.limiter('client_auth', LIMIT, WINDOW_SECONDS);
      const k = key();
      for (let i = 0; i < LIMIT; i++) await limiter.fail(k);
      if (redis !== undefined) {
        const stored = await redis.keys(`${prefix}*${k}`);
        expect(stored).to.have.length(1);
        await redis.del(...stored);
      } else {
        expect((await connection.db!.collection('attempt_limits').deleteMany({ key: { $regex: `${k}$` } })).deletedCount).to.equal(1);
      }
      expect(await limiter.retryAfter(k)).to.be.within(1, WINDOW_SECONDS);
    });

    it('concurrent checks of one key share one store read; a check after a local failure does not join it', async () => {
      const limiter = a.limiter('client_auth', LIMIT, WINDOW_SECONDS);
      const k = key();
      const before = reads;
      const answers = await Promise.all(Array.from({ length: 16 }, () => limiter.retryAfter(k)));
      expect(answers).to.deep.equal(Array.from({ length: 16 }, () => 0));
      expect(reads - before, 'store reads for 16 concurrent checks').to.equal(1);

      const other = key();
      for (let i = 0; i < LIMIT - 1; i++) await limiter.fail(other);
      const first = limiter.retryAfter(other);
      const failed = limiter.fail(other);
      // Started after the failure was counted locally: its own read, which sees the block.
      const second = limiter.retryAfter(other);
      await failed;
      expect(await first).to.be.at.least(0);
      expect(await second).to.be.within(1, WINDOW_SECONDS);
    });

    it('reads the store on every check when cleanCacheMs is 0', async () => {
      const uncached = await openAttemptLimits({ redis, mongo: connection, logger: createLogger('silent'), redisPrefix: prefix, cleanCacheMs: 0, now: () => clock });
      try {
        const atA = uncached.limiter('user_code', LIMIT, WINDOW_SECONDS);
        const atB = b.limiter('user_code', LIMIT, WINDOW_SECONDS);
        const k = key();
        expect(await atA.retryAfter(k)).to.equal(0);
        expect(atA.knownClear?.(k), 'nothing remembered').to.equal(false);
        for (let i = 0; i < LIMIT; i++) await atB.fail(k);
        expect(await atA.retryAfter(k)).to.be.above(0);
      } finally {
        uncached.close();
      }
    });
  });
}
