import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { upsertValidated, validated } from '../storage/validated-writes.ts';
import type { Connection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import { ensureExpiryIndex, startSweeper, type Sweeper, type SweepTarget } from '../storage/expiry.ts';
import { documentLocks, lockKey as documentLockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { lockedSweep } from '../storage/locked-sweep.ts';
import { keyComponent } from '../storage/key-component.ts';
import { mongoFailureCounters, redisFailureCounters, type Counter } from './failure-counters.ts';
import { mongoAttemptsInFlight } from './attempts-in-flight.ts';
import { ATTEMPT, CLAIM_LOCK, ENDED, FAILED, READ_LOCKS, SUCCEEDED } from './login-limiter-scripts.ts';
import { inFlightWait, type Busy } from './in-flight-wait.ts';
import { ipKey } from './ip-key.ts';
import { lockoutModel, type LockoutScope, type StoredLockout } from './lockout-model.ts';
import { DEFAULT_LOCKOUT_POLICY, scopePolicy, type LockoutPolicy } from './login-limiter-policy.ts';
import type { Attempt, LockState, LoginLimiter } from './login-limiter-types.ts';

/** Where failure counters live: Redis when configured, else MongoDB. Lockout records are always in MongoDB. */
export type LimiterBackend =
  /** `prefix`: GATEHOUSE_REDIS_PREFIX, as every other Redis key has it, so deployments sharing a server keep their own counters. */
  | { readonly kind: 'redis'; readonly redis: Redis; readonly prefix?: string }
  | { readonly kind: 'mongo' };

export interface LoginLimiterDeps {
  readonly backend: LimiterBackend;
  /** Holds the lockout records, and the counters when the backend is 'mongo'. */
  readonly connection: Connection;
  /** Fixed, or read with each failure (the runtime lockout settings, src/settings/). */
  readonly policy?: LockoutPolicy | (() => Promise<LockoutPolicy>);
  readonly logger: Logger;
  /** How often expired rows are deleted where the server has no TTL indexes (FerretDB). */
  readonly sweepIntervalMs?: number;
  /** Gatehouse's clock (src/clock.ts): when a lock ends, and what the lockout list shows. */
  readonly now?: () => Date;
  /** Jumps of a moved clock (tests): the sweeper runs at once, as after the time they skip. */
  readonly onClockJump?: ((listener: () => Promise<void>) => () => void) | undefined;
  /** Serialises the MongoDB-path lock claim (docs/STORAGE.md); by default on `connection`. */
  readonly locks?: DocumentLocks;
  /**
   * How long an attempt stays in flight at most after its start (Gatehouse's clock): a bound on
   * one attempt's time (hash queue and verification), so a process that dies mid-attempt frees
   * each of its places that long after that attempt started. Also the longest wait for a place.
   */
  readonly inFlightSeconds?: number;
  /**
   * How long (Gatehouse's clock) a waiting attempt sees no attempt ahead of it end before
   * SignInsInFlightError: a stuck place is refused, a slow machine is not.
   */
  readonly inFlightWaitMs?: number;
  /** Each attempt that waited for a place, once it has one or is refused (metrics). */
  readonly onInFlightWait?: (outcome: 'admitted' | 'refused') => void;
  /**
   * Create the lockout (and MongoDB counter) collections' indexes (default). False: they exist
   * already or the caller only reads (src/storage/index-mark.ts); no expiry sweeper either then —
   * what cannot tell whether the server has TTL indexes leaves expiry to the server's sweeper.
   */
  readonly indexes?: boolean;
}

const SCOPES: readonly LockoutScope[] = ['account_ip', 'account', 'ip'];

/**
 * Sets up storage (indexes; TTL or a sweeper) and returns the limiter. Call once at startup.
 * Only failures are counted; a locked key is not counted further, so a lock never extends itself.
 *
 * Failures are counted in windows kept by the store (rate-limiter-flexible: Redis TTLs, or
 * `expire` dates in MongoDB). A key that reaches its threshold is locked until a time taken
 * from Gatehouse's clock: a lock key in Redis, else the lockout record in MongoDB, and the
 * store forgets it after as long in its own time. So a lock ends when the clock says (tests
 * move it instead of waiting), and its counter starts again from zero.
 */
export async function createLoginLimiter({
  backend,
  connection,
  policy = DEFAULT_LOCKOUT_POLICY,
  logger,
  sweepIntervalMs = 60_000,
  now = () => new Date(),
  onClockJump,
  locks = documentLocks(connection),
  inFlightSeconds = 60,
  inFlightWaitMs = 10_000,
  onInFlightWait,
  indexes = true,
}: LoginLimiterDeps): Promise<LoginLimiter> {
  const db = connection.db;
  if (db === undefined) throw new Error('createLoginLimiter needs a connected MongoDB connection');
  const lockouts = lockoutModel(connection);
  const sweepTargets: SweepTarget[] = [];
  /**
   * Every writer of a lockout record holds its document lock (the claim below, the record's final
   * write, the sweep) — except an operator's `lift()`, which deletes without it: a lock claimed
   * while a lift runs may go with it, the same outcome as the lift running just after the claim.
   */
  const recordLocked = <T>(id: string, work: () => Promise<T>) => locks.hold(documentLockKey(lockouts.collection.collectionName, id), work);

  if (indexes) {
    if (!(await ensureExpiryIndex(lockouts.collection, 'lockedUntil'))) {
      sweepTargets.push(lockedSweep(locks, lockouts.collection, 'lockedUntil', (row) => documentLockKey(lockouts.collection.collectionName, String(row._id))));
    }
    await lockouts.createIndexes();
  }
  const store = backend.kind === 'redis' ? redisFailureCounters(backend.redis, backend.prefix) : await mongoFailureCounters(db, locks, indexes);
  if (store.sweepTarget !== undefined) sweepTargets.push(store.sweepTarget);
  let sweeper: Sweeper | undefined;
  if (sweepTargets.length > 0) {
    // Expected on FerretDB; the server's startup log says so once (debug here).
    logger.debug(
      { collections: sweepTargets.map((t) => ('sweep' in t ? t.collectionName : t.collection.collectionName)), sweepIntervalMs },
      'MongoDB server has no TTL indexes (FerretDB?): expired login-limit rows are deleted by a sweeper',
    );
    sweeper = startSweeper({ targets: sweepTargets, intervalMs: sweepIntervalMs, logger, now, onClockJump });
  }

  const policyNow = typeof policy === 'function' ? policy : () => Promise.resolve(policy);
  // The escalation memory is not a runtime setting: the level counters are made once.
  const { levelMemorySeconds } = typeof policy === 'function' ? DEFAULT_LOCKOUT_POLICY : policy;
  // A counter's window is fixed when its key is first written, so a changed window takes one
  // more counter per scope; keys and stored counts stay the same (the key prefix does not change).
  const counters = new Map<string, Counter>();
  const counterFor = (scope: LockoutScope, windowSeconds: number): Counter => {
    const id = `${scope}:${windowSeconds}`;
    let found = counters.get(id);
    if (found === undefined) {
      found = store.counter(`gh_login_${scope}`, windowSeconds);
      counters.set(id, found);
    }
    return found;
  };
  // Reads and deletes do not depend on the window: any of the scope's counters does them.
  const counter = (scope: LockoutScope) => counterFor(scope, DEFAULT_LOCKOUT_POLICY.accountIp.windowSeconds);
  const levels = new Map(SCOPES.map((scope) => [scope, store.counter(`gh_lock_level_${scope}`, levelMemorySeconds)]));
  const level = (scope: LockoutScope) => levels.get(scope) as Counter;
  // Attempts under way (only between attempt() and its outcome), each on its own: never failures, never a lock.
  const attemptsKey = ({ scope, key }: Pick<Key, 'scope' | 'key'>) => `${backend.kind === 'redis' ? (backend.prefix ?? '') : ''}gh_login_attempts_${scope}:${key}`;
  const inFlight = backend.kind === 'mongo' ? mongoAttemptsInFlight(db, locks, inFlightSeconds * 1000) : undefined;
  const wait = inFlightWait({ stallMs: inFlightWaitMs, maxMs: inFlightSeconds * 1000, now: () => now().getTime(), onWaited: onInFlightWait });
  /** An attempt ended (a failure counted, a success, or neither): waiters on its pair here try again. */
  const ended = (keys: readonly Key[]) => wait.ended(keys[0]!.key);

  interface Key {
    readonly scope: LockoutScope;
    readonly key: string;
    readonly subject: string | null;
    readonly ip: string | null;
  }
  function keysOf(subject: string, ip: string): Key[] {
    const address = ipKey(ip);
    const s = keyComponent(subject);
    return [
      { scope: 'account_ip', key: `${s}@${address}`, subject, ip: address },
      { scope: 'account', key: s, subject, ip: null },
      { scope: 'ip', key: address, subject: null, ip: address },
    ];
  }
  const recordId = ({ scope, key }: Pick<Key, 'scope' | 'key'>) => `${scope}:${key}`;
  const lockKey = ({ scope, key }: Pick<Key, 'scope' | 'key'>) => `${backend.kind === 'redis' ? (backend.prefix ?? '') : ''}gh_login_lock_${scope}:${key}`;

  /** When each scope's lock ends (epoch ms; absent: no lock), and whether the pair is clean. */
  async function readLocks(keys: readonly Key[]): Promise<{ ends: Array<{ scope: LockoutScope; until: number | undefined }>; pairClean: boolean }> {
    if (backend.kind === 'redis') {
      const pair = keys[0]!;
      const reply = (await READ_LOCKS.run(backend.redis, [counter(pair.scope).getKey(pair.key), level(pair.scope).getKey(pair.key), ...keys.map(lockKey)], [])) as Array<string | number | null>;
      const ends = keys.map(({ scope }, index) => {
        const until = reply[index + 1];
        return { scope, until: until === null || until === undefined ? undefined : Number(until) };
      });
      return { ends, pairClean: Number(reply[0]) === 0 };
    }
    const rows = await lockouts
      .find({ _id: { $in: keys.map(recordId) } }, { scope: 1, lockedUntil: 1 })
      .lean<Array<Pick<StoredLockout, 'scope' | 'lockedUntil'>>>()
      .exec();
    return { ends: rows.map(({ scope, lockedUntil }) => ({ scope, until: lockedUntil.getTime() })), pairClean: false };
  }

  async function lockState(keys: readonly Key[]): Promise<LockState> {
    const { ends, pairClean } = await readLocks(keys);
    return stateOf(ends, pairClean);
  }

  function stateOf(ends: ReadonlyArray<{ scope: LockoutScope; until: number | undefined }>, pairClean: boolean, at = now().getTime()): LockState {
    let locked: LockState = { locked: false, pairClean };
    for (const { scope, until } of ends) {
      if (until === undefined || until <= at) continue;
      const retryAfterSeconds = Math.max(1, Math.ceil((until - at) / 1000));
      if (!locked.locked || retryAfterSeconds > locked.retryAfterSeconds) locked = { locked: true, scope, retryAfterSeconds };
    }
    return locked;
  }

  /**
   * Locks the key unless a lock is in force, atomically: of failures arriving together past the
   * threshold exactly one locks, so the escalation level goes up once per lock (two lockers would
   * both raise it: the first lock would last twice as long, or 2^n times with n lockers).
   * The claim holds the first level's length; the winner then raises the level and sets the end.
   *
   * MongoDB path: a conditional upsert (`lockedUntil $lte now`) is no compare-and-set on FerretDB
   * v1 — it checks the filter on the document it read, so once an ended lock's record is still
   * there (no TTL index: the sweeper deletes it later) several failures at once all claimed it.
   * So the claim reads and writes the record under its document lock. A lock in force seen
   * without the lock is final (only an unlock shortens one): the burst's losers stop there.
   */
  async function claim(target: Key, rules: LockoutPolicy): Promise<boolean> {
    const at = now();
    const until = new Date(at.getTime() + rules.lockSeconds * 1000);
    if (backend.kind === 'redis') return Number(await CLAIM_LOCK.run(backend.redis, [lockKey(target)], [String(at.getTime()), String(until.getTime()), String(rules.lockSeconds * 1000)])) === 1;
    const record = await validated(lockouts, { _id: recordId(target), scope: target.scope, subject: target.subject, ip: target.ip, level: 1, lockedAt: at, lockedUntil: until });
    const inForce = async () => {
      const found = await lockouts.collection.findOne({ _id: record._id } as never, { projection: { lockedUntil: 1 } });
      return found !== null && (found.lockedUntil as Date).getTime() > at.getTime();
    };
    if (await inForce()) return false;
    return recordLocked(record._id, async () => {
      if (await inForce()) return false;
      await lockouts.collection.updateOne({ _id: record._id } as never, { $set: record }, { upsert: true });
      return true;
    });
  }

  async function lock(target: Key, rules: LockoutPolicy): Promise<void> {
    if (!(await claim(target, rules))) return;
    const { consumedPoints: n } = await level(target.scope).penalty(target.key, 1);
    const seconds = Math.min(rules.lockSeconds * 2 ** Math.min(n - 1, 30), rules.maxLockSeconds);
    const lockedAt = now();
    const lockedUntil = new Date(lockedAt.getTime() + seconds * 1000);
    if (backend.kind === 'redis') await backend.redis.set(lockKey(target), String(lockedUntil.getTime()), 'PX', seconds * 1000);
    const record: StoredLockout = {
      _id: recordId(target),
      scope: target.scope,
      subject: target.subject,
      ip: target.ip,
      level: n,
      lockedAt,
      lockedUntil,
    };
    // Under the record's lock like the claim: a sweep deleting the ended record it replaces must
    // not delete this one (with Redis the claim took no lock; the record is still what lists and
    // lifts the lock).
    await recordLocked(record._id, () => upsertValidated(lockouts, record));
    // The failures that locked the key are spent: once the lock ends, counting starts again.
    await counter(target.scope).delete(target.key);
    logger.info({ scope: target.scope, subject: target.subject, ip: target.ip, level: n, seconds }, 'login lockout');
  }

  /**
   * A refusal because a key's failures reach its threshold while no lock is in force: its
   * threshold was lowered below the count (runtime settings). The key is locked now, as a failure
   * past the threshold locks it (recordFailure): otherwise the refusal would be a lock nobody
   * sees in the list and no unlock lifts (no record names an (account, IP) key), lasting until
   * the counting window ends. Attempts in flight never lead here: only failures lock.
   */
  async function full(keys: readonly Key[], index: number, rules: LockoutPolicy): Promise<Attempt> {
    const target = keys[index]!;
    await lock(target, rules);
    const state = await lockState(keys);
    return state.locked ? state : { locked: true, scope: target.scope, retryAfterSeconds: rules.lockSeconds };
  }

  /** One try: the attempt's outcome, or Busy when a key's failures and attempts in flight fill its threshold. */
  async function tryAttempt(keys: readonly Key[], rules: LockoutPolicy): Promise<Attempt | Busy> {
    const thresholds = keys.map((target) => scopePolicy(rules, target.scope).threshold);
    const id = randomUUID();
    const at = now().getTime();
    if (backend.kind === 'redis') {
      const [pair] = keys;
      const reply = (await ATTEMPT.run(
        backend.redis,
        [...keys.map((target) => counter(target.scope).getKey(target.key)), level(pair!.scope).getKey(pair!.key), ...keys.map(lockKey), ...keys.map(attemptsKey)],
        [String(at), ...thresholds.map(String), String(inFlightSeconds * 1000), id],
      )) as Array<string | number | null>;
      const outcome = Number(reply[1]);
      if (outcome < 0) return full(keys, -outcome - 1, rules);
      if (outcome === 0) {
        const ends = keys.map(({ scope }, index) => ({ scope, until: reply[index + 2] === null || reply[index + 2] === undefined ? undefined : Number(reply[index + 2]) }));
        return stateOf(ends, false, at) as Attempt;
      }
      if (outcome < 4) return { busy: true, oldest: typeof reply[5] === 'string' ? reply[5] : undefined };
      return { locked: false, pairClean: Number(reply[0]) === 0, inFlight: true, id };
    }
    // The failure counters' locks, then the attempts' rows', each in scope order (every caller's order).
    // The lock of a full key is taken after they are let go (lock() resets its counter under them).
    const outcome = await store.exclusive!(
      keys.map((target) => [counter(target.scope), target.key] as const),
      (counts) =>
        inFlight!.hold(keys.map(attemptsKey), at, async (attempts, add): Promise<Attempt | Busy | { full: number }> => {
          const state = await lockState(keys);
          if (state.locked) return state;
          const atThreshold = keys.findIndex((_, index) => (counts[index] as number) >= (thresholds[index] as number));
          if (atThreshold >= 0) return { full: atThreshold };
          const busy = keys.findIndex((_, index) => (counts[index] as number) + attempts[index]!.count >= (thresholds[index] as number));
          if (busy >= 0) return { busy: true, oldest: attempts[busy]!.oldest };
          await add(id);
          return { locked: false, pairClean: false, inFlight: true, id };
        }),
    );
    return 'full' in outcome ? full(keys, outcome.full, rules) : outcome;
  }

  async function lift(targets: ReadonlyArray<Pick<Key, 'scope' | 'key'>>, { records = true } = {}): Promise<number> {
    await Promise.all(
      targets.flatMap((target) => [
        counter(target.scope).delete(target.key),
        level(target.scope).delete(target.key),
        ...(backend.kind === 'redis' && records ? [backend.redis.del(lockKey(target))] : []),
      ]),
    );
    if (!records) return 0;
    const { deletedCount } = await lockouts.deleteMany({ _id: { $in: targets.map(recordId) } });
    return deletedCount;
  }

  return {
    backend: backend.kind,
    check: (subject, ip) => lockState(keysOf(subject, ip)),
    attempt(subject, ip) {
      const keys = keysOf(subject, ip);
      return wait.run(keys[0]!.key, async () => tryAttempt(keys, await policyNow()));
    },
    async recordFailure(subject, ip, counted) {
      const keys = keysOf(subject, ip);
      const rules = await policyNow();
      const failures = keys.map((target) => [counterFor(target.scope, scopePolicy(rules, target.scope).windowSeconds), target.key] as const);
      let counts: readonly number[];
      if (counted?.locked !== false) counts = await store.addOne(failures);
      else if (backend.kind === 'redis') {
        counts = ((await FAILED.run(
          backend.redis,
          [...failures.map(([failure, key]) => failure.getKey(key)), ...keys.map(attemptsKey)],
          [...keys.map((target) => String(scopePolicy(rules, target.scope).windowSeconds)), counted.id],
        )) as number[]).map(Number);
      } else {
        // The failure first, then the attempt leaves: their sum never drops below what may still fail.
        counts = await store.addOne(failures);
        await inFlight!.end(keys.map(attemptsKey), counted.id);
      }
      if (counted?.locked === false) ended(keys);
      await Promise.all(
        keys.map(async (target, index) => {
          // Past the threshold too: it was lowered meanwhile, or another failure is locking the key
          // right now (then the claim in lock() lets only one of them lock).
          if ((counts[index] as number) >= scopePolicy(rules, target.scope).threshold) await lock(target, rules);
        }),
      );
      return lockState(keys);
    },
    async recordSuccess(subject, ip, checked) {
      if (checked?.locked === false && 'inFlight' in checked) {
        const keys = keysOf(subject, ip);
        const pair = keys[0]!;
        if (backend.kind === 'redis') {
          await SUCCEEDED.run(backend.redis, [counter(pair.scope).getKey(pair.key), level(pair.scope).getKey(pair.key), ...keys.map(attemptsKey)], [checked.id]);
        } else await Promise.all([lift([pair], { records: false }), inFlight!.end(keys.map(attemptsKey), checked.id)]);
        ended(keys);
        return;
      }
      if (checked?.locked === false && checked.pairClean === true) return;
      const [pair] = keysOf(subject, ip);
      // A sign-in can only succeed while its pair is not locked, so any lockout record of the
      // pair has already ended (lockedUntil passed: not listed, removed by TTL or the sweeper).
      // Resetting the counter and the escalation level is enough; no MongoDB write per sign-in.
      if (pair !== undefined) await lift([pair], { records: false });
    },
    async release(subject, ip, counted) {
      if (counted.locked) return;
      const keys = keysOf(subject, ip);
      if (backend.kind === 'redis') await ENDED.run(backend.redis, keys.map(attemptsKey), [counted.id]);
      else await inFlight!.end(keys.map(attemptsKey), counted.id);
      ended(keys);
    },
    async unlock(subject) {
      const s = keyComponent(subject);
      const pairs = await lockouts.find({ subject, scope: 'account_ip' }, { _id: 1 }).lean().exec();
      const pairKeys = pairs.map((row) => ({ scope: 'account_ip' as const, key: row._id.slice('account_ip:'.length) }));
      return lift([{ scope: 'account', key: s }, ...pairKeys]);
    },
    unlockIp: (ip) => lift([{ scope: 'ip', key: ipKey(ip) }]),
    async listLockouts(limit) {
      const rows = await lockouts.find({ lockedUntil: { $gt: now() } }).sort({ lockedAt: -1 }).limit(limit ?? 0).lean<StoredLockout[]>().exec();
      return rows.map(({ scope, subject, ip, level: n, lockedAt, lockedUntil }) => ({ scope, subject, ip, level: n, lockedAt, lockedUntil }));
    },
    countLockouts: () => lockouts.countDocuments({ lockedUntil: { $gt: now() } }).exec(),
    close: () => sweeper?.stop(),
  };
}
