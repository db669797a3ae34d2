import type { mongo } from 'mongoose';
import { systemClock, type Clock } from '../clock.ts';
import { startSweeper, type Sweeper } from '../storage/expiry.ts';
import type { Logger } from './logger.ts';

function isNotImplemented(error: unknown): boolean {
  const { code, codeName } = (error ?? {}) as { code?: unknown; codeName?: unknown };
  return code === 238 || codeName === 'NotImplemented' || code === 115 || codeName === 'CommandNotSupported';
}

/**
 * How often the sweeper runs where the store has no TTL index (FerretDB v1): hourly. Retention is
 * counted in days, so an event goes at most an hour after its last day; and FerretDB v1 pushes no
 * range down, so each sweep reads every stored event (≈ 60 µs of the stores' CPU per event held,
 * docs/PERFORMANCE.md perf20): once a minute, a trail of a few hundred thousand events cost more
 * CPU than the events' writing.
 */
export const AUDIT_SWEEP_INTERVAL_MS = 3_600_000;

/**
 * Keeps audit events for `retentionDays` (0 = forever): a TTL index on `at` where the server
 * has them (MongoDB), else a sweeper (FerretDB v1), as src/storage/expiry.ts does. MongoDB also
 * gets a plain index on `at` without retention (audit queries by time range). FerretDB v1 gets
 * none: it pushes no range down (the sweeper's `at < cutoff` and the queries' time ranges scan
 * either way), so the index would only cost every event written (audit-trail.ts
 * `ensureAuditIndexes` (audit-collection-setup.ts) drops one an earlier Gatehouse created there).
 * The sweeper counts the days on `clock`, which dates the events (audit-trail.ts), sweeps every
 * `sweepIntervalMs` (AUDIT_SWEEP_INTERVAL_MS) and when a moved clock jumps; a TTL index counts them
 * on the database server's clock.
 */
export async function startAuditRetention({
  collection,
  retentionDays,
  logger,
  sweepIntervalMs = AUDIT_SWEEP_INTERVAL_MS,
  clock = systemClock,
  ferretDbV1 = false,
}: {
  readonly collection: mongo.Collection<mongo.Document>;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly sweepIntervalMs?: number;
  /** Gatehouse's clock (src/clock.ts). */
  readonly clock?: Clock;
  /** The store is FerretDB v1 (src/storage/server-kind.ts): no index on `at`, a sweeper for retention. */
  readonly ferretDbV1?: boolean;
}): Promise<Sweeper | undefined> {
  if (retentionDays === 0) {
    if (!ferretDbV1) await collection.createIndex({ at: 1 }, { name: 'at_1' }).catch(() => {});
    return undefined;
  }
  const retentionSeconds = retentionDays * 86_400;
  if (!ferretDbV1) {
    try {
      await collection.createIndex({ at: 1 }, { expireAfterSeconds: retentionSeconds, name: 'at_ttl' });
      return undefined;
    } catch (error) {
      if (!isNotImplemented(error)) {
        // e.g. another component created an `at` index with other options: sweep instead.
        logger.warn({ err: error }, 'audit retention: TTL index not created; sweeping instead');
      } else {
        // A server without TTL indexes that is not FerretDB v1 may still serve the sweeper's range.
        await collection.createIndex({ at: 1 }, { name: 'at_1' }).catch(() => {});
      }
    }
  }
  return startSweeper({
    targets: [{ collection, field: 'at' }],
    intervalMs: sweepIntervalMs,
    logger,
    now: () => new Date(clock.now() - retentionSeconds * 1000),
    onClockJump: clock.onJump,
  });
}
