import type { Connection } from 'mongoose';
import type { WarnLogger } from './mongo-indexes.ts';

export interface ExpirySweeperDeps {
  readonly connection: Connection;
  readonly collections: readonly string[];
  readonly intervalMs: number;
  readonly logger: WarnLogger;
  readonly now?: () => number;
}

export interface ExpirySweeper {
  /** One pass over every collection; resolves with the number of documents removed. */
  sweepOnce(): Promise<number>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Stands in for TTL indexes where the server has none (FerretDB v1). Reads already ignore
 * expired records; this only reclaims space, so a failed pass is logged and retried later.
 */
export function startExpirySweeper({ connection, collections, intervalMs, logger, now = Date.now }: ExpirySweeperDeps): ExpirySweeper {
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    const db = connection.db;
    if (db === undefined) return 0;
    const cutoff = new Date(now());
    let removed = 0;
    for (const name of collections) {
      const result = await db.collection(name).deleteMany({ expiresAt: { $lt: cutoff } });
      removed += result.deletedCount;
    }
    return removed;
  }

  function sweepOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => {
    sweepOnce().catch((error: unknown) => logger.warn({ err: error }, 'expiry sweep failed; will retry'));
  }, intervalMs);
  timer.unref();

  return {
    sweepOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
