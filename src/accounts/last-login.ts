import type { Clock } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import { keyedBatchedWriter } from '../storage/batched-writer.ts';
import type { SignIns } from './sign-ins.ts';

/**
 * Last sign-in times written in batches, off the sign-in's path: a sign-in only notes the time, a
 * timer (or a full batch) writes every noted user with one `update` command — to `user_sign_ins`
 * (sign-ins.ts), never to the user document, where FerretDB's whole-document rewrite could undo a
 * concurrent password change or disable (docs/STORAGE.md). Under load that is
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
  readonly signIns: Pick<SignIns, 'record' | 'forgetDeleted'>;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  readonly flushIntervalMs?: number;
  /** Users per write; more pending than this writes at once. */
  readonly maxBatch?: number;
  /** The clock of the flush timer (src/clock.ts). */
  readonly clock?: Clock;
}

export function createLastLoginWriter({ signIns, logger, flushIntervalMs = 1000, maxBatch = 500, clock }: LastLoginWriterDeps): LastLoginWriter {
  /** userId → latest sign-in time not yet written. */
  const pending = new Map<string, Date>();
  const writer = keyedBatchedWriter(pending, {
    maxBatch,
    flushIntervalMs,
    clock,
    // A failed batch is kept for the retry, unless a newer sign-in of the same user was noted meanwhile.
    // A user deleted since their sign-in was noted (here or at another instance) gets no row back.
    async write(batch) {
      await signIns.record(batch);
      await signIns.forgetDeleted(batch.map(([userId]) => userId));
    },
    onFailure: (error, first) => first && logger.warn({ err: error, pending: pending.size }, 'last sign-in times could not be stored; will retry'),
    onRecovery: () => logger.info('last sign-in times are being stored again'),
  });

  return {
    record(userId, at) {
      pending.set(userId, at);
      writer.noted();
    },
    flush: writer.flush,
    close: writer.close,
  };
}
