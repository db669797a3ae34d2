import type { mongo } from 'mongoose';
import { lockKey as documentLockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { LIMITS_COLLECTION } from './failure-counters.ts';

/** One attempt in flight: its id, and when it started (epoch ms, Gatehouse's clock). */
interface Entry {
  readonly id: string;
  readonly at: number;
}

/** What a key's attempts in flight are, as the limiter's check sees them. */
export interface InFlightOnKey {
  readonly count: number;
  /** The id of the oldest (what waiters watch end); undefined when there is none. */
  readonly oldest: string | undefined;
}

/**
 * Sign-in attempts in flight without Redis (with it, the limiter's scripts keep them in sorted
 * sets): one `login_limits` row per key, `{ key, attempts: [{ id, at }], expire }`, each attempt
 * with its own start, so one whose process died stops counting `lifetimeMs` after it started,
 * however many attempts start after it. `expire` (the newest attempt's end, on the same clock)
 * lets the TTL index or the sweeper delete a row left behind. Every write holds the row's document lock
 * (`login_limits:<key>`, the one the sweep takes).
 */
export interface AttemptsInFlight {
  /**
   * Runs `work` holding the rows' locks in the order given (after the failure counters', as every
   * caller does), with each key's attempts in flight at `at` and a way to add attempt `id` to all.
   */
  hold<T>(keys: readonly string[], at: number, work: (inFlight: readonly InFlightOnKey[], add: (id: string) => Promise<void>) => Promise<T>): Promise<T>;
  /** Attempt `id` ended: it leaves each key's row (the row goes with its last attempt). */
  end(keys: readonly string[], id: string): Promise<void>;
}

export function mongoAttemptsInFlight(db: mongo.Db, locks: DocumentLocks, lifetimeMs: number): AttemptsInFlight {
  const limits = db.collection(LIMITS_COLLECTION);
  const lockOf = (key: string) => documentLockKey(LIMITS_COLLECTION, key);
  return {
    hold(keys, at, work) {
      const inside = async () => {
        const rows = await limits.find({ key: { $in: [...keys] } }, { projection: { key: 1, attempts: 1 } }).toArray();
        const live = keys.map((key) => ((rows.find((row) => row.key === key)?.attempts ?? []) as Entry[]).filter((entry) => entry.at > at - lifetimeMs));
        return work(
          live.map((entries) => ({ count: entries.length, oldest: entries[0]?.id })),
          async (id) => {
            // On the clock the attempts are timed on, as the sweeper deletes (and a lock record's end is).
            const expire = new Date(at + lifetimeMs);
            await Promise.all(keys.map((key, index) => limits.updateOne({ key }, { $set: { attempts: [...live[index]!, { id, at }], expire } }, { upsert: true })));
          },
        );
      };
      const holding = (index: number): ReturnType<typeof inside> => (index === keys.length ? inside() : locks.hold(lockOf(keys[index]!), () => holding(index + 1)));
      return holding(0);
    },
    async end(keys, id) {
      await Promise.all(
        keys.map((key) =>
          locks.hold(lockOf(key), async () => {
            const row = await limits.findOne({ key }, { projection: { attempts: 1 } });
            const entries = (row?.attempts ?? []) as Entry[];
            const left = entries.filter((entry) => entry.id !== id);
            if (left.length === entries.length) return;
            if (left.length === 0) await limits.deleteOne({ key });
            else await limits.updateOne({ key }, { $set: { attempts: left } });
          }),
        ),
      );
    },
  };
}
