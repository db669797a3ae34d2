import type { mongo } from 'mongoose';
import { systemClock, type Clock } from '../clock.ts';
import { startSweeper, type Sweeper } from '../storage/expiry.ts';
import type { Logger } from './logger.ts';

function isNotImplemented(error: unknown): boolean {
  const { code, codeName } = (error ?? {}) as { code?: unknown; codeName?: unknown };
  return code === 238 || codeName === 'NotImplemented' || code === 115 || codeName === 'CommandNotSupported';
}

/**
 * Keeps audit events for `retentionDays` (0 = forever): a TTL index on `at` where the server
 * has them (MongoDB), else an index and a sweeper (FerretDB v1), as src/storage/expiry.ts does.
 * The sweeper counts the days on `clock`, which dates the events (audit-trail.ts), and sweeps
 * when a moved clock jumps; a TTL index counts them on the database server's clock.
 */
export async function startAuditRetention({
  collection,
  retentionDays,
  logger,
  sweepIntervalMs = 60_000,
  clock = systemClock,
}: {
  readonly collection: mongo.Collection<mongo.Document>;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly sweepIntervalMs?: number;
  /** Gatehouse's clock (src/clock.ts). */
  readonly clock?: Clock;
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
    now: () => new Date(clock.now() - retentionSeconds * 1000),
    onClockJump: clock.onJump,
  });
}
