import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { RateLimiterMongo, RateLimiterRedis, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { ensureExpiryIndex, startSweeper, type Sweeper } from '../accounts/expiry.ts';
import type { Logger } from '../observability/logger.ts';

/** Counts failures per key; after `limit` of them within the window the key is refused for the window. */
export interface AttemptLimiter {
  /** Seconds until the key may try again; 0 when it may try now. Counts nothing. */
  retryAfter(key: string): Promise<number>;
  /** Counts one failure. */
  fail(key: string): Promise<void>;
}

export interface AttemptLimits {
  limiter(name: string, limit: number, windowSeconds: number): AttemptLimiter;
  close(): void;
}

export interface AttemptLimitsDeps {
  /** Counters in Redis when given, else in MongoDB. */
  readonly redis: Redis | undefined;
  readonly mongo: Connection;
  readonly logger: Logger;
  /** GATEHOUSE_REDIS_PREFIX: Redis keys of instances sharing a server stay apart. */
  readonly redisPrefix?: string;
  readonly sweepIntervalMs?: number;
}

const COLLECTION = 'attempt_limits';

/**
 * Failure counters outside the sign-in form (client authentication, device user codes). Same
 * storage pattern as the login limiter: Redis when configured; else MongoDB with our own
 * indexes (rate-limiter-flexible's include a TTL index FerretDB rejects) and a sweeper where
 * the server has no TTL indexes.
 */
export async function openAttemptLimits({ redis, mongo, logger, redisPrefix = '', sweepIntervalMs = 60_000 }: AttemptLimitsDeps): Promise<AttemptLimits> {
  const db = mongo.db;
  if (db === undefined) throw new Error('openAttemptLimits needs a connected MongoDB connection');
  let sweeper: Sweeper | undefined;
  if (redis === undefined) {
    const rows = db.collection(COLLECTION);
    await rows.createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
    if (!(await ensureExpiryIndex(rows, 'expire'))) sweeper = startSweeper({ targets: [{ collection: rows, field: 'expire' }], intervalMs: sweepIntervalMs, logger });
  }
  return {
    limiter(name, limit, windowSeconds) {
      const keyPrefix = `gh_attempts_${name}`;
      const store: RateLimiterStoreAbstract =
        redis !== undefined
          ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${redisPrefix}${keyPrefix}`, points: limit, duration: windowSeconds })
          : new RateLimiterMongo({ storeClient: db, tableName: COLLECTION, keyPrefix, points: limit, duration: windowSeconds, disableIndexesCreation: true });
      return {
        async retryAfter(key) {
          const res = await store.get(key);
          return res !== null && res.consumedPoints >= limit ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
        },
        async fail(key) {
          await store.penalty(key, 1);
        },
      };
    },
    close: () => sweeper?.stop(),
  };
}
