import type { mongo } from 'mongoose';

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
export async function ensureExpiryIndex(collection: mongo.Collection<mongo.Document>, field: string): Promise<boolean> {
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
  stop(): void;
}

export interface SweeperOptions {
  readonly targets: ReadonlyArray<{ readonly collection: mongo.Collection<mongo.Document>; readonly field: string }>;
  readonly intervalMs: number;
  readonly logger: { warn(fields: object, message: string): void };
  readonly now?: () => Date;
  /** Jumps of a moved clock (src/clock.ts, tests): a sweep runs at once and the jump waits for it. */
  readonly onClockJump?: ((listener: () => Promise<void>) => () => void) | undefined;
}

/** Periodically deletes rows whose expiry field has passed; the timer never keeps the process alive. */
export function startSweeper({ targets, intervalMs, logger, now = () => new Date(), onClockJump }: SweeperOptions): Sweeper {
  let failing = false;
  async function sweep(): Promise<number> {
    let removed = 0;
    for (const { collection, field } of targets) {
      const result = await collection.deleteMany({ [field]: { $lte: now() } });
      removed += result.deletedCount;
    }
    return removed;
  }
  const timer = setInterval(() => {
    sweep().then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        // One line per outage, not one per tick.
        if (!failing) logger.warn({ err: error }, 'expiry sweeper failed; will retry');
        failing = true;
      },
    );
  }, intervalMs);
  timer.unref();
  const stopHearingJumps = onClockJump?.(async () => {
    await sweep().catch((error: unknown) => logger.warn({ err: error }, 'expiry sweeper failed; will retry'));
  });
  return {
    sweep,
    stop: () => {
      clearInterval(timer);
      stopHearingJumps?.();
    },
  };
}
