import type { Logger } from '../observability/logger.ts';
import type { UserModel } from './user-model.ts';

/**
 * `lastLoginAt` written in batches, off the sign-in's path: a sign-in only notes the time, a
 * timer (or a full batch) writes every noted user with one `update` command. Under load that is
 * one write per second instead of one per sign-in. The price, as for audit events: the times of
 * the last second are lost if the process dies (the audit log has every sign-in); `close()`
 * writes what is pending.
 */
export interface LastLoginWriter {
  record(userId: string, at: Date): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface LastLoginWriterDeps {
  readonly users: UserModel;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  readonly flushIntervalMs?: number;
  /** Users per write; more pending than this writes at once. */
  readonly maxBatch?: number;
}

export function createLastLoginWriter({ users, logger, flushIntervalMs = 1000, maxBatch = 500 }: LastLoginWriterDeps): LastLoginWriter {
  /** userId → latest sign-in time not yet written. */
  let pending = new Map<string, Date>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let failing = false;

  function schedule(delay = flushIntervalMs): void {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delay);
    timer.unref();
  }

  async function writeOnce(): Promise<void> {
    while (pending.size > 0) {
      const batch = [...pending].slice(0, maxBatch);
      for (const [userId] of batch) pending.delete(userId);
      try {
        await users.bulkWrite(
          batch.map(([userId, at]) => ({ updateOne: { filter: { _id: userId }, update: { $set: { lastLoginAt: at } } } })),
          { ordered: false },
        );
        if (failing) logger.info('last sign-in times are being stored again');
        failing = false;
      } catch (error) {
        // Put them back unless a newer sign-in of the same user was noted meanwhile.
        const retry = new Map(batch);
        for (const [userId, at] of pending) retry.set(userId, at);
        pending = retry;
        if (!failing) logger.warn({ err: error, pending: pending.size }, 'last sign-in times could not be stored; will retry');
        failing = true;
        schedule(Math.max(flushIntervalMs, 2000));
        return;
      }
    }
  }

  function flush(): Promise<void> {
    writing ??= writeOnce().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  return {
    record(userId, at) {
      pending.set(userId, at);
      if (pending.size >= maxBatch && writing === undefined) void flush();
      else schedule();
    },
    flush,
    async close() {
      clearTimeout(timer);
      timer = undefined;
      await writing;
      await flush();
    },
  };
}
