import { clockTimer, systemClock, type Clock, type ClockTimer } from '../clock.ts';

/**
 * The loop behind every write Gatehouse batches off the request path (audit events, last
 * sign-in times, where sessions were used): the caller notes something in its own buffer and
 * calls `noted()`; a full batch is written at once, anything less when the flush interval has
 * passed on the clock (or on `flush()`). One write at a time: what is noted while one runs goes
 * next if it fills a batch, else waits for the timer — so under steady load every write is a full
 * batch, not a stream of small ones sized by the rate times a write's duration (each write has a
 * fixed cost in the driver and the store: docs/PERFORMANCE.md, eighteenth round). A flush while
 * a write runs joins it, and that write then takes everything noted. A failed batch stays with
 * the caller for a retry after `retryAfterMs`. What waits at `close()` is written then; after it
 * no timer is armed.
 */
export interface BatchedWriter {
  /** Something was added to the buffer: writes a full batch now, else arms the timer. */
  noted(): void;
  /** Writes what waits now (joins a write under way). */
  flush(): Promise<void>;
  /** Waits for a write under way, then writes what is left (a record that must be stored now). */
  drain(): Promise<void>;
  /** No more timers; waits for a write under way and writes what is left. */
  close(): Promise<void>;
  /** Whether a write is under way. */
  readonly writing: boolean;
}

export interface BatchedWriterOptions {
  /** How many wait in the caller's buffer. */
  readonly pending: () => number;
  /**
   * Writes the next batch (at most `maxBatch`) and takes it off the buffer. Throws when the
   * batch should be tried again later (the caller keeps it); returns when it went or was
   * given up.
   */
  readonly writeBatch: (maxBatch: number) => Promise<void>;
  readonly maxBatch: number;
  /** A batch is written this long after its first note at the latest. */
  readonly flushIntervalMs?: number;
  /** Wait before retrying a failed batch; at least 2 s by default. */
  readonly retryAfterMs?: number;
  /** The first failure of a run of them (`first`), and each later one. */
  readonly onFailure?: (error: unknown, first: boolean) => void;
  /** The first success after failures. */
  readonly onRecovery?: () => void;
  /** The clock the timer runs on (src/clock.ts); tests move it. */
  readonly clock?: Clock;
}

export function batchedWriter({ pending, writeBatch, maxBatch, flushIntervalMs = 1000, retryAfterMs = Math.max(flushIntervalMs, 2000), onFailure, onRecovery, clock = systemClock }: BatchedWriterOptions): BatchedWriter {
  let timer: ClockTimer | undefined;
  let writing: Promise<void> | undefined;
  let failing = false;
  let closed = false;
  /**
   * How many of the oldest notes a flush (`flush`, `drain`, `close`, the timer) asked to be
   * written: the writes go on, a partial batch too, until they are out — and no further, or under
   * steady load a flush would chase every note made during its writes, in small batches.
   */
  let owed = 0;
  /** Writes started so far, and the first one a flush's `owed` counts (one already under way took notes it did not count, or none). */
  let started = 0;
  let owedFrom = 0;

  function schedule(delay: number): void {
    if (timer !== undefined || closed) return;
    timer = clockTimer(clock, delay, () => {
      timer = undefined;
      return flush();
    });
  }

  async function writeAll(): Promise<void> {
    while (pending() > 0 && (owed > 0 || pending() >= maxBatch)) {
      // A batch is the oldest `maxBatch` notes, or all of them (both buffers are taken from the front).
      const taken = Math.min(maxBatch, pending());
      const write = started++;
      try {
        await writeBatch(maxBatch);
      } catch (error) {
        owed = 0;
        onFailure?.(error, !failing);
        failing = true;
        schedule(retryAfterMs);
        return;
      }
      if (write >= owedFrom) owed = Math.max(0, owed - taken);
      if (failing) onRecovery?.();
      failing = false;
    }
    owed = 0;
    // Less than a batch, noted during the write: its first note armed the timer; this only makes sure.
    if (pending() > 0) schedule(flushIntervalMs);
  }

  function start(): Promise<void> {
    writing ??= writeAll().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  async function flush(): Promise<void> {
    // What is pending now (a batch under way included, where the buffer still holds it: at most one batch more).
    if (owed === 0) owedFrom = started;
    owed = Math.max(owed, pending());
    await start();
    // The write joined had left its loop before this flush was asked for: write what it left.
    if (owed > 0 && pending() > 0) await start();
  }

  async function drain(): Promise<void> {
    await writing;
    await flush();
  }

  return {
    noted() {
      if (pending() >= maxBatch && writing === undefined) void start();
      else schedule(flushIntervalMs);
    },
    flush,
    drain,
    async close() {
      closed = true;
      timer?.cancel();
      timer = undefined;
      await drain();
    },
    get writing() {
      return writing !== undefined;
    },
  };
}

/** Takes the first `max` entries off a keyed buffer (the latest note per key), oldest first. */
export function takeBatch<K, V>(buffer: Map<K, V>, max: number): Array<[K, V]> {
  const batch = [...buffer].slice(0, max);
  for (const [key] of batch) buffer.delete(key);
  return batch;
}

/**
 * A batched writer over a keyed buffer (the latest note per key, e.g. per user): `write` gets up
 * to `maxBatch` entries taken off it. When `write` throws, the entries go back in front for the
 * retry, except those noted again meanwhile (the newer note wins).
 */
export function keyedBatchedWriter<K, V>(
  buffer: Map<K, V>,
  { write, ...options }: Omit<BatchedWriterOptions, 'pending' | 'writeBatch'> & { readonly write: (batch: Array<[K, V]>) => Promise<void> },
): BatchedWriter {
  return batchedWriter({
    ...options,
    pending: () => buffer.size,
    async writeBatch(max) {
      const batch = takeBatch(buffer, max);
      try {
        await write(batch);
      } catch (error) {
        const retry = new Map(batch);
        for (const [key, value] of buffer) retry.set(key, value);
        buffer.clear();
        for (const [key, value] of retry) buffer.set(key, value);
        throw error;
      }
    },
  });
}
