import type { mongo } from 'mongoose';
import { startSweeper, type Sweeper } from '../storage/expiry.ts';
import { completeEvent, type Audit, type AuditEvent } from './audit.ts';
import type { Logger } from './logger.ts';

/** The collection the admin API reads audit events from (same document shape). */
export const AUDIT_COLLECTION = 'audit_events';

export interface BatchedAuditOptions {
  readonly collection: mongo.Collection<mongo.Document>;
  readonly logger: Logger;
  /** A batch is written this long after its first event at the latest. */
  readonly flushIntervalMs?: number;
  /** ... or as soon as this many events wait. */
  readonly maxBatch?: number;
  /** Events kept while MongoDB is away; beyond that the oldest are dropped (and counted). */
  readonly maxBuffered?: number;
  readonly onDropped?: (count: number) => void;
}

export interface BatchedAudit extends Audit {
  /** Writes what waits now. */
  flush(): Promise<void>;
  /** Final flush; later events are ignored. */
  close(): Promise<void>;
  pending(): number;
}

/**
 * Audit events written to MongoDB in batches, off the request path: `record` only appends to
 * a bounded in-memory buffer, a timer (or a full batch) writes it with one insertMany. A token
 * request therefore never waits for an audit write. The price: events of the last second can be
 * lost if the process dies (the log stream has them too), and a long MongoDB outage drops the
 * oldest beyond `maxBuffered`.
 */
export function createBatchedAudit({
  collection,
  logger,
  flushIntervalMs = 1000,
  maxBatch = 100,
  maxBuffered = 10_000,
  onDropped,
}: BatchedAuditOptions): BatchedAudit {
  let buffer: AuditEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let failing = false;
  let closed = false;

  function schedule(delay = flushIntervalMs) {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delay);
    timer.unref();
  }

  async function writeOnce(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      try {
        await collection.insertMany(batch.map((event) => ({ ...event })), { ordered: false });
        buffer = buffer.slice(batch.length);
        if (failing) logger.info('audit events are being stored again');
        failing = false;
      } catch (error) {
        if (!failing) logger.warn({ err: error, pending: buffer.length }, 'audit events could not be stored; will retry');
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
    record(input) {
      if (closed) return;
      buffer.push(completeEvent(input));
      if (buffer.length > maxBuffered) {
        const dropped = buffer.length - maxBuffered;
        buffer = buffer.slice(dropped);
        onDropped?.(dropped);
      }
      if (buffer.length >= maxBatch && writing === undefined) void flush();
      else schedule();
    },
    flush,
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      await writing;
      await flush();
      if (buffer.length > 0) logger.warn({ lost: buffer.length }, 'audit events not stored at shutdown');
    },
    pending: () => buffer.length,
  };
}

function isNotImplemented(error: unknown): boolean {
  const { code, codeName } = (error ?? {}) as { code?: unknown; codeName?: unknown };
  return code === 238 || codeName === 'NotImplemented' || code === 115 || codeName === 'CommandNotSupported';
}

/**
 * Keeps audit events for `retentionDays` (0 = forever): a TTL index on `at` where the server
 * has them (MongoDB), else an index and a sweeper (FerretDB v1), as src/storage/expiry.ts does.
 */
export async function startAuditRetention({
  collection,
  retentionDays,
  logger,
  sweepIntervalMs = 60_000,
}: {
  readonly collection: mongo.Collection<mongo.Document>;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly sweepIntervalMs?: number;
}): Promise<Sweeper | undefined> {
  if (retentionDays === 0) {
    await collection.createIndex({ at: 1 }, { name: 'at_1' }).catch(() => {});
    return undefined;
  }
  const retentionSeconds = retentionDays * 86_400;
  try {
    await collection.createIndex({ at: 1 }, { expireAfterSeconds: retentionSeconds, name: 'at_ttl' });
    return undefined;
  } catch (error) {
    if (!isNotImplemented(error)) {
      // e.g. another component created an `at` index with other options: sweep instead.
      logger.warn({ err: error }, 'audit retention: TTL index not created; sweeping instead');
    } else {
      await collection.createIndex({ at: 1 }, { name: 'at_1' }).catch(() => {});
    }
  }
  return startSweeper({
    targets: [{ collection, field: 'at' }],
    intervalMs: sweepIntervalMs,
    logger,
    now: () => new Date(Date.now() - retentionSeconds * 1000),
  });
}
