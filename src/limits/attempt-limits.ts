import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { RateLimiterMemory, RateLimiterMongo, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { documentLocks, lockKey } from '../storage/document-locks.ts';
import { ensureExpiryIndex, startSweeper, type Sweeper } from '../storage/expiry.ts';
import { lockedSweep } from '../storage/locked-sweep.ts';
import { unavailableStore } from '../errors/store-unavailable.ts';
import type { Logger } from '../observability/logger.ts';
import type { LimiterName } from '../observability/limiter-names.ts';

/** Counts failures per key; after `limit` of them within the window the key is refused for the window. */
export interface AttemptLimiter {
  /** Seconds until the key may try again; 0 when it may try now. Counts nothing. */
  retryAfter(key: string): Promise<number>;
  /**
   * Whether retryAfter(key) would answer 0 from memory without asking the store (the key's "no
   * block" remembered within its cleanCacheMs, and no failure counted here since): the hot path's
   * check without a promise. False says nothing: retryAfter decides.
   */
  knownClear?(key: string): boolean;
  /** Counts one failure. */
  fail(key: string): Promise<void>;
  /**
   * Checks and counts one attempt in one atomic step (an increment whose result decides): 0 when
   * it may go on — it is counted as a failure already; takeBack() it if it did not fail — else
   * the seconds to wait (nothing counted). Of attempts sent together, exactly as many as the
   * limit leaves go on, across instances (per instance while the shared store is unavailable).
   */
  reserve(key: string): Promise<number>;
  /** Takes back one attempt reserve() counted that did not fail. */
  takeBack(key: string): Promise<void>;
}

export interface AttemptLimits {
  limiter(name: LimiterName, limit: number, windowSeconds: number): AttemptLimiter;
  /** Stops the sweeper; resolves once a sweep under way has ended (the stores close next). */
  close(): Promise<void>;
}

export interface AttemptLimitsDeps {
  /** Counters in Redis when given, else in MongoDB. */
  readonly redis: Redis | undefined;
  readonly mongo: Connection;
  readonly logger: Logger;
  /** GATEHOUSE_REDIS_PREFIX: Redis keys of instances sharing a server stay apart. */
  readonly redisPrefix?: string;
  readonly sweepIntervalMs?: number;
  /**
   * How long "this key has no block" is remembered in-process, so the hot path (every token
   * request passes the client-authentication gate) does not read the store each time. A
   * failure counted here forgets it at once; failures counted by other instances are seen
   * within this time. 0 reads the store on every check.
   */
  readonly cleanCacheMs?: number;
  /**
   * Called for every check or count served by the per-instance fallback because the shared
   * store is unavailable (a metric); the logger says when the fallback starts and ends.
   */
  readonly onFallback?: ((limiter: string) => void) | undefined;
  readonly now?: () => number;
}

/** Bound on remembered clean keys per limiter (keys come from request headers and IPs). */
const CLEAN_CACHE_ENTRIES = 10_000;

const COLLECTION = 'attempt_limits';

/**
 * Failure counters outside the sign-in form (client authentication, device user codes). Same
 * storage pattern as the login limiter: Redis when configured; else MongoDB with our own
 * indexes (rate-limiter-flexible's include a TTL index FerretDB rejects) and a sweeper where
 * the server has no TTL indexes.
 *
 * In MongoDB every count and take-back of a key holds the counter's document lock
 * (`attempt_limits:<stored key>`, src/storage/document-locks.ts), and so does the sweep:
 * rate-limiter-flexible's `$inc` is a read and a whole-document write on FerretDB v1, where
 * counts and take-backs arriving together were lost (docs/STORAGE.md, "Concurrent updates of
 * one document"). So the shared count is exact there as in Redis, and decides reserve().
 */
export async function openAttemptLimits({
  redis,
  mongo,
  logger,
  redisPrefix = '',
  sweepIntervalMs = 60_000,
  cleanCacheMs = 1000,
  onFallback,
  now = Date.now,
}: AttemptLimitsDeps): Promise<AttemptLimits> {
  const db = mongo.db;
  if (db === undefined) throw new Error('openAttemptLimits needs a connected MongoDB connection');
  let sweeper: Sweeper | undefined;
  const locks = documentLocks(mongo);
  const lockOf = (storedKey: string) => lockKey(COLLECTION, storedKey);
  if (redis === undefined) {
    const rows = db.collection(COLLECTION);
    await rows.createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
    if (!(await ensureExpiryIndex(rows, 'expire'))) {
      sweeper = startSweeper({ targets: [lockedSweep(locks, rows, 'expire', (row) => lockOf(String(row.key)))], intervalMs: sweepIntervalMs, logger });
    }
  }
  return {
    limiter(name, limit, windowSeconds) {
      const keyPrefix = `gh_attempts_${name}`;
      const shared: RateLimiterAbstract =
        redis !== undefined
          ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${redisPrefix}${keyPrefix}`, points: limit, duration: windowSeconds })
          : new RateLimiterMongo({ storeClient: db, tableName: COLLECTION, keyPrefix, points: limit, duration: windowSeconds, disableIndexesCreation: true });
      // Redis runs each command alone; a MongoDB counter's writes take turns under its lock.
      const exclusive = <T>(key: string, work: () => Promise<T>): Promise<T> => (redis !== undefined ? work() : locks.hold(lockOf(shared.getKey(key)), work));
      const store = withLocalCounts(name, shared, exclusive, new RateLimiterMemory({ keyPrefix, points: limit, duration: windowSeconds }), logger, onFallback);
      const clean = new Map<string, number>();
      // Bumped by every local failure: a store read that started before one is not remembered.
      let generation = 0;
      /**
       * Store reads in flight per key: checks of one key that arrive together (a client's
       * concurrent token requests once its clean entry expired) share one read, unless a local
       * failure was counted since it started.
       */
      const reading = new Map<string, { generation: number; wait: Promise<number> }>();
      async function read(key: string): Promise<number> {
        const started = generation;
        const res = await store.get(key);
        const wait = res !== null && res.consumedPoints >= limit ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
        clean.delete(key);
        if (wait === 0 && cleanCacheMs > 0 && started === generation) {
          if (clean.size >= CLEAN_CACHE_ENTRIES) clean.delete(clean.keys().next().value!);
          clean.set(key, now() + cleanCacheMs);
        }
        return wait;
      }
      const knownClear = (key: string) => {
        const until = clean.get(key);
        return until !== undefined && until > now();
      };
      const limiter: AttemptLimiter = {
        knownClear,
        async retryAfter(key) {
          if (knownClear(key)) return 0;
          const shared = reading.get(key);
          if (shared !== undefined && shared.generation === generation) return shared.wait;
          const wait = read(key);
          const entry = { generation, wait };
          reading.set(key, entry);
          try {
            return await wait;
          } finally {
            if (reading.get(key) === entry) reading.delete(key);
          }
        },
        async fail(key) {
          generation += 1;
          clean.delete(key);
          await store.penalty(key, 1);
        },
        async reserve(key) {
          generation += 1;
          clean.delete(key);
          // One counter's own sequence decides (two counters' increments of attempts sent together
          // may be ordered differently): the shared one, unless it is unavailable, then this instance's.
          const { mine, everyone } = await store.add(key);
          const counted = everyone ?? mine;
          if (counted.consumedPoints <= limit) return 0;
          await store.takeBack(key);
          return Math.max(1, Math.ceil(counted.msBeforeNext / 1000));
        },
        async takeBack(key) {
          generation += 1;
          clean.delete(key);
          await store.takeBack(key);
        },
      };
      return limiter;
    },
    close: async () => sweeper?.stop(),
  };
}

interface CounterStore {
  get(key: string): Promise<RateLimiterRes | null>;
  penalty(key: string, points: number): Promise<unknown>;
  /** Adds one to both and answers the counts made: this instance's, and the shared one (null while it is unavailable). */
  add(key: string): Promise<{ mine: RateLimiterRes; everyone: RateLimiterRes | null }>;
  /** Takes one back where there is one to take. */
  takeBack(key: string): Promise<void>;
}

/**
 * Failures are counted in the shared store (so every instance sees them) and in a per-instance
 * memory limiter too; a check takes whichever counted more. So this instance's own failures
 * always count, even when the shared count was lost (a store reset), and while the shared store
 * is unavailable the gate keeps working per instance instead
 * of failing: the endpoints behind it (client_credentials, introspection) must not stop with
 * the limiter's store. The log says when an outage starts and ends, the metric counts each
 * check or count it affected. Errors that are not an outage still fail the request.
 */
function withLocalCounts(
  name: string,
  shared: RateLimiterAbstract,
  /** Runs a write of the shared count of `key` while no other write of it runs (MongoDB: its document lock). */
  exclusive: <T>(key: string, work: () => Promise<T>) => Promise<T>,
  local: RateLimiterMemory,
  logger: Logger,
  onFallback: ((limiter: string) => void) | undefined,
): CounterStore {
  let degraded = false;
  async function orOutage<T>(sharedCall: () => Promise<T>, duringOutage: T): Promise<T> {
    try {
      const result = await sharedCall();
      if (degraded) {
        degraded = false;
        logger.info({ limiter: name }, 'attempt limits: shared store is back; counting there again');
      }
      return result;
    } catch (error) {
      const store = unavailableStore(error);
      if (store === undefined) throw error;
      if (!degraded) {
        degraded = true;
        logger.warn({ limiter: name, store }, 'attempt limits: shared store unavailable; counting per instance until it is back');
      }
      onFallback?.(name);
      return duringOutage;
    }
  }
  return {
    async get(key) {
      const [mine, everyone] = await Promise.all([local.get(key), orOutage(() => shared.get(key), null)]);
      if (mine === null) return everyone;
      if (everyone === null) return mine;
      return mine.consumedPoints > everyone.consumedPoints ? mine : everyone;
    },
    async penalty(key, points) {
      await Promise.all([local.penalty(key, points), orOutage(() => exclusive(key, () => shared.penalty(key, points)), undefined)]);
    },
    async add(key) {
      const [mine, everyone] = await Promise.all([local.penalty(key, 1), orOutage(() => exclusive(key, () => shared.penalty(key, 1)), null)]);
      return { mine, everyone };
    },
    async takeBack(key) {
      const takeBackFrom = async (limiter: RateLimiterAbstract) => {
        if (((await limiter.get(key))?.consumedPoints ?? 0) > 0) await limiter.reward(key, 1);
      };
      await Promise.all([takeBackFrom(local), orOutage(() => exclusive(key, () => takeBackFrom(shared)), undefined)]);
    },
  };
}
