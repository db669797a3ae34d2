import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { StoreUnavailableError, unavailableStore } from '../errors/store-unavailable.ts';
import { isDuplicateKey } from './duplicate-key.ts';

/** A held lock, or a takeover marker (`<key>@<expiry of the stale lease>`). */
interface LockDocument {
  _id: string;
  owner: string;
  expiresAt: Date;
}

/**
 * Serialises read-modify-write of one document across processes. FerretDB v1 runs every update
 * by reading the whole document and writing it back, so two updates of one document at once can
 * lose one, and a filter used as a compare-and-set is checked on the document it read
 * (docs/STORAGE.md, "Concurrent updates of one document"). The only atomic step it has is a
 * unique `_id` insert: a lock is the insert of `{ _id: key }` into `document_locks`, held for a
 * lease and deleted when the work ends. Every writer of a document must hold its lock.
 */
export interface DocumentLocks {
  /** Runs `work` while holding the lock on `key` (`<collection>:<id>`), waiting for another holder. */
  hold<T>(key: string, work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` holding the locks of those of `keys` that are free right now, taken with ONE
   * insert and released with ONE delete; `work` gets the keys it holds. A key someone holds is
   * left out at once (no waiting, no takeover): the caller takes it alone with hold() if it must.
   * For sweeps over many documents, which would otherwise pay three round trips per document.
   */
  holdFree<T>(keys: readonly string[], work: (held: readonly string[]) => Promise<T>): Promise<T>;
}

export interface DocumentLocksOptions {
  /** How long a lock stays valid if its holder never releases it (a process that died). */
  readonly leaseMs?: number;
  /** How long to wait for a lock before answering 503 (summed pauses, not a clock reading). */
  readonly maxWaitMs?: number;
  /** Lease times; leases are about real elapsed time, so the default is the real clock. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Runs `renew` every `everyMs` while a holder works; returns how to stop. By default an
   * unref'd interval; tests fire it themselves (no waiting on real time).
   */
  readonly heartbeat?: (everyMs: number, renew: () => Promise<void>) => () => void;
}

export const LOCK_COLLECTION = 'document_locks';
const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_MAX_WAIT_MS = 20_000;
const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 50;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waiters in this process, by connection and key: a release wakes the first at once instead of
 * letting it finish its pause (up to 50 ms). Waiters in other processes still find the key free
 * at their next try; only this process's own holders can tell its waiters.
 */
const waitersByConnection = new WeakMap<Connection, Map<string, Array<() => void>>>();

function localWaiters(connection: Connection): { wait(key: string): { woken: Promise<void>; cancel(): void }; wakeNext(key: string): void } {
  let waiters = waitersByConnection.get(connection);
  if (waiters === undefined) waitersByConnection.set(connection, (waiters = new Map()));
  const queue = waiters;
  const drop = (key: string, wake: () => void) => {
    const list = queue.get(key);
    const at = list?.indexOf(wake) ?? -1;
    if (list === undefined || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) queue.delete(key);
  };
  return {
    wait(key) {
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const list = queue.get(key);
      if (list === undefined) queue.set(key, [wake]);
      else list.push(wake);
      return { woken, cancel: () => drop(key, wake) };
    },
    wakeNext(key) {
      const wake = queue.get(key)?.[0];
      if (wake === undefined) return;
      drop(key, wake);
      wake();
    },
  };
}

const interval = (everyMs: number, renew: () => Promise<void>) => {
  const timer = setInterval(() => void renew(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

export function documentLocks(connection: Connection, options: DocumentLocksOptions = {}): DocumentLocks {
  const { leaseMs = DEFAULT_LEASE_MS, maxWaitMs = DEFAULT_MAX_WAIT_MS, now = Date.now, sleep = pause, heartbeat = interval } = options;
  const locks = () => connection.collection<LockDocument>(LOCK_COLLECTION);
  const lease = () => new Date(now() + leaseMs);
  const waiters = localWaiters(connection);

  /**
   * A lease that ran out (its holder died or stalled) is taken over by exactly one waiter: the
   * one whose insert of the marker `<key>@<stale expiry>` succeeds. It then rewrites the lock
   * only if it still holds the stale lease (a compare-and-set on MongoDB; on FerretDB the
   * marker is what keeps two takers apart).
   *
   * A taker that stops between its marker and the rewrite (its process died, or the rewrite
   * failed) leaves the marker while the lock keeps the stale lease: the same marker for every
   * later waiter. So the marker has a lease of its own; once that has run out too, it goes, and
   * the next waiter takes over. (Without that, the key stayed locked for good: 503 on every write.)
   */
  async function takeOver(key: string, stale: LockDocument, owner: string): Promise<string | undefined> {
    const marker = `${key}@${stale.expiresAt.getTime()}`;
    try {
      await locks().insertOne({ _id: marker, owner, expiresAt: lease() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const other = await locks().findOne({ _id: marker });
      if (other !== null && other.expiresAt.getTime() <= now()) await locks().deleteOne({ _id: marker, owner: other.owner, expiresAt: other.expiresAt });
      return undefined;
    }
    let replaced: { matchedCount: number };
    try {
      replaced = await locks().replaceOne({ _id: key, owner: stale.owner, expiresAt: stale.expiresAt }, { owner, expiresAt: lease() });
    } catch (error) {
      await locks()
        .deleteOne({ _id: marker, owner })
        .catch(() => {});
      throw error;
    }
    if (replaced.matchedCount === 1) return marker;
    await locks().deleteOne({ _id: marker, owner });
    return undefined;
  }

  async function acquire(key: string, owner: string): Promise<{ marker?: string }> {
    let waited = 0;
    let next = FIRST_PAUSE_MS;
    for (;;) {
      try {
        await locks().insertOne({ _id: key, owner, expiresAt: lease() });
        return {};
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      // Waiting from here: a release in this process meanwhile (even during the read) wakes us.
      const waiting = waiters.wait(key);
      let ms: number;
      try {
        const held = await locks().findOne({ _id: key });
        if (held !== null && held.expiresAt.getTime() <= now()) {
          const marker = await takeOver(key, held, owner);
          if (marker !== undefined) return { marker };
        }
        if (waited >= maxWaitMs) {
          throw new StoreUnavailableError('mongodb', { cause: new Error(`document lock ${key} is busy`) });
        }
        // Released between the insert and the read: try again at once, but count it. A pause
        // cut short by a release counts whole: the budget stays a bound.
        ms = held === null ? 0 : next;
        if (ms > 0) await Promise.race([sleep(ms), waiting.woken]);
      } finally {
        waiting.cancel();
      }
      waited += Math.max(ms, 1);
      next = Math.min(next * 2, LONGEST_PAUSE_MS);
    }
  }

  /**
   * Keeps a working holder's lease from running out: every third of the lease it is pushed a
   * whole lease ahead (only while still ours: owner in the filter). Renewals never overlap, and
   * one that fails is simply tried again at the next beat (the lease still has two thirds left).
   * No one else writes a lock that is in force (waiters only insert and read; a taker rewrites
   * only a lease that ran out), so on FerretDB too the renewal races nothing — unless the whole
   * process stalled past the lease (then no beat ran either: see docs/STORAGE.md).
   */
  function renewing(keys: string | readonly string[], owner: string): { stop: () => Promise<void> } {
    let running: Promise<void> | undefined;
    const renew = () =>
      (running ??= (typeof keys === 'string' ? locks().updateOne({ _id: keys, owner }, { $set: { expiresAt: lease() } }) : locks().updateMany({ _id: { $in: [...keys] }, owner }, { $set: { expiresAt: lease() } }))
        .then(
          () => {},
          () => {},
        )
        .finally(() => {
          running = undefined;
        }));
    const stopBeating = heartbeat(Math.max(1, Math.floor(leaseMs / 3)), renew);
    return {
      async stop() {
        stopBeating();
        await running;
      },
    };
  }

  /**
   * Runs the work of a holder, then `release` — awaited unless the work failed because the store
   * stopped answering (see hold()).
   */
  async function working<T>(work: () => Promise<T>, release: () => Promise<void>): Promise<T> {
    const outcome = await work().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (!outcome.ok) {
      // Work refused by a rule (a conflict, a check that failed): the store is answering, so
      // the release is awaited as after success — the caller's next write finds the key free.
      // Work that failed because the store stopped answering (after the store's timeout
      // already): the answer goes now and the release follows in the background (a renewal
      // in flight and the delete could each take that timeout again). Waiters meanwhile wait
      // as for any holder, at worst until the lease runs out.
      if (unavailableStore(outcome.error) === undefined) await release();
      else void release();
      throw outcome.error;
    }
    await release();
    return outcome.value;
  }

  return {
    async holdFree(keys, work) {
      if (keys.length === 0) return work([]);
      const owner = randomUUID();
      const expiresAt = lease();
      const ours = () => locks().deleteMany({ _id: { $in: [...keys] }, owner });
      let busy = new Set<number>();
      try {
        // Unordered: every free key is locked, each held one refused alone (E11000 at its index).
        await locks().insertMany(keys.map((key) => ({ _id: key, owner, expiresAt })), { ordered: false });
      } catch (error) {
        const refusals = (error as { writeErrors?: unknown }).writeErrors;
        const list = (Array.isArray(refusals) ? refusals : refusals === undefined ? [] : [refusals]) as Array<{ index?: unknown; code?: unknown }>;
        if (list.length === 0 || !list.every((refusal) => refusal.code === 11000 && typeof refusal.index === 'number')) {
          await ours().catch(() => {});
          throw error;
        }
        busy = new Set(list.map((refusal) => refusal.index as number));
      }
      const held = keys.filter((_, index) => !busy.has(index));
      if (held.length === 0) return work([]);
      const renewal = renewing(held, owner);
      return working(
        () => work(held),
        async () => {
          await renewal.stop();
          await locks()
            .deleteMany({ _id: { $in: held }, owner })
            .catch(() => {});
          for (const key of held) waiters.wakeNext(key);
        },
      );
    },
    async hold(key, work) {
      const owner = randomUUID();
      const { marker } = await acquire(key, owner);
      const renewal = renewing(key, owner);
      const release = async () => {
        // After an in-flight renewal settles: landing after the release, it could rewrite (on
        // FerretDB v1, a read then a write by `_id`) the lock of whoever took the key meanwhile.
        await renewal.stop();
        // Only our own lease: one taken over after it ran out belongs to someone else now.
        // A release that fails leaves the lock to its lease.
        await locks()
          .deleteOne({ _id: key, owner })
          .then(() => (marker === undefined ? undefined : locks().deleteOne({ _id: marker, owner })))
          .catch(() => {});
        waiters.wakeNext(key);
      };
      return working(work, release);
    },
  };
}

/** The lock key of one document. */
export const lockKey = (collection: string, id: string) => `${collection}:${id}`;
