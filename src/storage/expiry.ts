import type { Connection, mongo } from 'mongoose';

function isNotImplemented(error: unknown): boolean {
  const { code, codeName } = (error ?? {}) as { code?: unknown; codeName?: unknown };
  return code === 238 || codeName === 'NotImplemented' || code === 115 || codeName === 'CommandNotSupported';
}

/**
 * Makes rows of `collection` disappear once `field` (a Date) is in the past: with a TTL index
 * where the server has them (MongoDB), else by reporting false so the caller sweeps instead
 * (FerretDB v1 answers NotImplemented to `expireAfterSeconds`). Reads must still check expiry:
 * neither TTL monitors nor sweepers are instant.
 */
export async function ensureExpiryIndex<T extends mongo.Document>(collection: mongo.Collection<T>, field: string): Promise<boolean> {
  try {
    await collection.createIndex({ [field]: 1 }, { expireAfterSeconds: 0, name: `${field}_ttl` });
    return true;
  } catch (error) {
    if (!isNotImplemented(error)) throw error;
    await collection.createIndex({ [field]: 1 }, { name: `${field}_expiry` });
    return false;
  }
}

export interface Sweeper {
  /** Deletes expired rows now; resolves to how many went. */
  sweep(): Promise<number>;
  /**
   * No more sweeps; resolves once the timer's or a clock jump's sweep under way has ended, so
   * the caller may close the stores (a sweep the closing store interrupts is not logged).
   */
  stop(): Promise<void>;
}

/**
 * What a sweep deletes: the rows of `collection` whose `field` has passed, or — for rows written
 * under a document lock, which a plain `deleteMany` could delete just after a writer renewed
 * them (FerretDB v1 reads the matches, then deletes by `_id`) — a function that does it itself.
 */
export type SweepTarget =
  | { readonly collection: mongo.Collection<mongo.Document>; readonly field: string }
  | { readonly collectionName: string; readonly sweep: (now: Date) => Promise<number> };

export interface SweeperOptions {
  readonly targets: readonly SweepTarget[];
  readonly intervalMs: number;
  readonly logger: { warn(fields: object, message: string): void };
  readonly now?: () => Date;
  /** Jumps of a moved clock (src/clock.ts, tests): a sweep runs at once and the jump waits for it. */
  readonly onClockJump?: ((listener: () => Promise<void>) => () => void) | undefined;
}

/** What a module's expiry starter (a TTL index, else a sweeper) takes: its database and the sweeper's options. */
export interface ExpiryDeps extends Pick<SweeperOptions, 'logger' | 'now' | 'onClockJump'> {
  readonly mongo: Connection;
  readonly intervalMs?: number;
}

/** Periodically deletes rows whose expiry field has passed; the timer never keeps the process alive. */
export function startSweeper({ targets, intervalMs, logger, now = () => new Date(), onClockJump }: SweeperOptions): Sweeper {
  let failing = false;
  let stopped = false;
  const running = new Set<Promise<void>>();
  async function sweep(): Promise<number> {
    let removed = 0;
    for (const target of targets) {
      if ('sweep' in target) removed += await target.sweep(now());
      else removed += (await target.collection.deleteMany({ [target.field]: { $lte: now() } })).deletedCount;
    }
    return removed;
  }
  /** A sweep of the timer or of a clock jump, tracked until it ends; one warning per outage. */
  function sweepInBackground(): Promise<void> {
    const run = sweep().then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        // After stop() the stores are closing under the sweep: nothing to retry, nothing to say.
        if (!failing && !stopped) logger.warn({ err: error }, 'expiry sweeper failed; will retry');
        failing = true;
      },
    );
    running.add(run);
    void run.finally(() => running.delete(run));
    return run;
  }
  const timer = setInterval(() => void sweepInBackground(), intervalMs);
  timer.unref();
  const stopHearingJumps = onClockJump?.(sweepInBackground);
  return {
    sweep,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      stopHearingJumps?.();
      await Promise.all(running);
    },
  };
}
