import type { Redis } from 'ioredis';
import type { mongo } from 'mongoose';
import { RateLimiterMongo, RateLimiterRedis, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { lockKey as documentLockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { ensureExpiryIndex, type SweepTarget } from '../storage/expiry.ts';
import { lockedSweep } from '../storage/locked-sweep.ts';

/** What the login limiter uses of one failure counter (rate-limiter-flexible's). */
export type Counter = Pick<RateLimiterStoreAbstract, 'getKey' | 'penalty' | 'delete'>;

/** The store of the login limiter's failure counters and lockout levels: Redis, or MongoDB without it. */
export interface FailureCounters {
  /** A counter whose counts are forgotten `durationSeconds` after a key's first one. */
  counter(keyPrefix: string, durationSeconds: number): Counter;
  /** Adds one to each (counter, key) — keys of distinct counters — and answers their counts, in that order. */
  addOne(entries: ReadonlyArray<readonly [Counter, string]>): Promise<number[]>;
  /**
   * MongoDB only (on Redis one script does the same): runs `work` while no other count or reset
   * of these counters can happen, holding their document locks in the order given (every caller
   * gives them in the same order, so two never wait on each other). `work` gets their counts.
   */
  readonly exclusive?: <T>(entries: ReadonlyArray<readonly [Counter, string]>, work: (counts: readonly number[]) => Promise<T>) => Promise<T>;
  /** Deletes ended counters where the server has no TTL index (FerretDB); absent otherwise. */
  readonly sweepTarget?: SweepTarget;
}

const POINTS = Number.MAX_SAFE_INTEGER;

/** Counters in Redis (each increment atomic there). `prefix`: GATEHOUSE_REDIS_PREFIX. */
export function redisFailureCounters(redis: Redis, prefix = ''): FailureCounters {
  return {
    counter: (keyPrefix, duration) => new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}${keyPrefix}`, points: POINTS, duration }),
    addOne: (entries) => Promise.all(entries.map(async ([counter, key]) => (await counter.penalty(key, 1)).consumedPoints)),
  };
}

export const LIMITS_COLLECTION = 'login_limits';

/**
 * Counters in MongoDB (`login_limits`). Sets up its indexes unless `indexes` is false (its own would
 * include a TTL index that FerretDB rejects; without TTL indexes ended counters are swept, by
 * whoever created the indexes). Call once at startup.
 *
 * rate-limiter-flexible's increment is a findOneAndUpdate `$inc`: a read and a whole-document
 * write on FerretDB v1, where failures at the same moment lost counts (every round of 12). So
 * each increment runs under the counter's document lock (the key the sweep takes too); a
 * failure's counters are locked together, with one insert and one release.
 */
export async function mongoFailureCounters(db: mongo.Db, locks: DocumentLocks, indexes = true): Promise<FailureCounters> {
  const limits = db.collection(LIMITS_COLLECTION);
  if (indexes) await limits.createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
  const lockOf = (storedKey: string) => documentLockKey(LIMITS_COLLECTION, storedKey);
  const sweepTarget = !indexes || (await ensureExpiryIndex(limits, 'expire')) ? undefined : lockedSweep(locks, limits, 'expire', (row) => lockOf(String(row.key)));
  const add = async ([counter, key]: readonly [Counter, string]) => (await counter.penalty(key, 1)).consumedPoints;
  /** Each counter's own store, for increments under a lock already held. */
  const storeOf = new WeakMap<Counter, RateLimiterMongo>();
  return {
    ...(sweepTarget === undefined ? {} : { sweepTarget }),
    counter(keyPrefix, duration) {
      const stored = new RateLimiterMongo({ storeClient: db, tableName: LIMITS_COLLECTION, keyPrefix, points: POINTS, duration, disableIndexesCreation: true });
      const counter: Counter = {
        getKey: (key) => stored.getKey(key),
        penalty: (key, count) => locks.hold(lockOf(stored.getKey(key)), () => stored.penalty(key, count)),
        // Under the lock too: an attempt counted in advance (exclusive()) sees the count before the
        // reset or the reset and the lock that caused it, never the reset without the lock.
        delete: (key) => locks.hold(lockOf(stored.getKey(key)), () => stored.delete(key)),
      };
      storeOf.set(counter, stored);
      return counter;
    },
    async addOne(entries) {
      const keys = entries.map(([counter, key]) => lockOf(counter.getKey(key)));
      const counts: number[] = new Array<number>(entries.length);
      const counted = new Set<number>();
      await locks.holdFree(keys, async (held) => {
        const free = new Set(held);
        await Promise.all(
          entries.map(async ([counter, key], index) => {
            const stored = storeOf.get(counter);
            if (stored === undefined || !free.has(keys[index] as string)) return;
            counted.add(index);
            counts[index] = (await stored.penalty(key, 1)).consumedPoints;
          }),
        );
      });
      // A counter someone else holds (another failure counting it): each waits for its own lock.
      await Promise.all(entries.map(async (entry, index) => (counted.has(index) ? undefined : (counts[index] = await add(entry)))));
      return counts;
    },
    exclusive(entries, work) {
      const stores = entries.map(([counter, key]) => [storeOf.get(counter)!, key] as const);
      const inside = async () => work(await Promise.all(stores.map(async ([stored, key]) => (await stored.get(key))?.consumedPoints ?? 0)));
      const holding = (index: number): ReturnType<typeof inside> => {
        const entry = entries[index];
        return entry === undefined ? inside() : locks.hold(lockOf(entry[0].getKey(entry[1])), () => holding(index + 1));
      };
      return holding(0);
    },
  };
}
