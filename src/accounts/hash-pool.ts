import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { clockTimer, systemClock, type Clock, type ClockTimer } from '../clock.ts';
import { needsRehash, type Argon2Params } from './argon2-params.ts';
import { HashPoolError, HashQueueFullError } from './errors.ts';
import type { HashJob, HashReply } from './hash-worker.ts';

/** Observability hook; metrics will subscribe here. Must not throw. */
export type HashPoolEvent =
  | {
      readonly type: 'completed';
      readonly op: 'hash' | 'verify';
      /** Time spent waiting for a free worker. */
      readonly waitMs: number;
      /** Time the worker spent on the job. */
      readonly runMs: number;
      readonly queueDepth: number;
    }
  | { readonly type: 'rejected'; readonly queueDepth: number; readonly retryAfterSeconds: number };

export interface HashPoolStats {
  /** Most workers the pool runs at once. */
  readonly size: number;
  /** Worker threads running right now (started on demand, gone after idling). */
  readonly workers: number;
  readonly busy: number;
  readonly queued: number;
  readonly queueLimit: number;
}

export interface PasswordHasherOptions {
  readonly params: Argon2Params;
  /** Most worker threads; one argon2 job runs per worker at a time. */
  readonly size: number;
  /** Jobs allowed to wait for a worker; beyond that calls reject with HashQueueFullError. */
  readonly queueLimit: number;
  /** A worker that has had nothing to do for this long exits; 0 or absent: workers stay until close(). */
  readonly idleTimeoutMs?: number;
  /** The clock of the idle timeout (src/clock.ts); tests move it. */
  readonly clock?: Clock;
  readonly observe?: (event: HashPoolEvent) => void;
  /** The worker script; tests substitute one that can crash. */
  readonly workerUrl?: URL;
}

export interface PasswordHasher {
  readonly params: Argon2Params;
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Verifies against a hash of nothing, with the current parameters: the work of a real
   * verification for logins that have no real hash to check (unknown users). Always false.
   */
  verifyDummy(password: string): Promise<false>;
  needsRehash(hash: string): boolean;
  /**
   * Starts a worker ahead of work (a sign-in form is on screen), so the password that follows
   * does not wait for a thread to boot. Does nothing while a worker is idle or the pool is full.
   */
  warmUp(): void;
  stats(): HashPoolStats;
  /** Rejects queued jobs and stops the workers. */
  close(): Promise<void>;
}

type JobInput = { readonly op: 'hash'; readonly password: string; readonly params: Argon2Params } | { readonly op: 'verify'; readonly password: string; readonly hash: string };

interface Job {
  readonly input: JobInput;
  /** The id its worker's reply carries (set when dispatched). */
  id: number;
  readonly enqueuedAt: number;
  startedAt: number;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  idleTimer: ClockTimer | undefined;
}

// Under `node src/…` the worker is TypeScript; in the compiled build it is the emitted .js.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);

/** Whether a message from a worker is the reply to `job` (one worker runs one job at a time). */
function isReplyTo(job: Job | undefined, message: unknown): message is HashReply {
  if (job === undefined || typeof message !== 'object' || message === null) return false;
  const { id, ok } = message as Partial<HashReply>;
  return id === job.id && typeof ok === 'boolean';
}

/** A PHC string with the current parameters and random salt and digest: verifying it costs a full hash. */
function dummyHash(params: Argon2Params): string {
  const b64 = (n: number) => randomBytes(n).toString('base64').replace(/=+$/, '');
  return `$argon2id$v=19$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$${b64(16)}$${b64(32)}`;
}

/**
 * argon2id in a pool of at most `size` worker threads, so hashing never blocks the event loop,
 * with a bounded wait queue so overload turns into fast 503s instead of unbounded latency.
 * Each worker is a V8 isolate (about 13 MiB resident), so workers start on demand — an idle
 * worker is reused before another one starts — and exit after `idleTimeoutMs` without work.
 * Idle workers are unref'd: a CLI that forgets close() still exits.
 */
export function createPasswordHasher({ params, size, queueLimit, idleTimeoutMs = 0, clock = systemClock, observe, workerUrl = WORKER_URL }: PasswordHasherOptions): PasswordHasher {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('hash pool size must be a positive integer');
  if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError('hash queue limit must be a whole number');
  if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 0) throw new RangeError('hash worker idle timeout must be a whole number of milliseconds');

  const queue: Job[] = [];
  /** Running workers only; at most `size`. */
  const slots: Slot[] = [];
  const dummy = dummyHash(params);
  let nextId = 1;
  let closed = false;
  // Workers that failed since the last completed job: a worker that cannot even start (bad
  // install, bad flags) must not turn into an endless respawn loop.
  let failures = 0;
  let broken: HashPoolError | undefined;
  // Moving average of the run time, for the Retry-After estimate; seeded with a typical value.
  let averageRunMs = 50;

  const emit = (event: HashPoolEvent) => {
    try {
      observe?.(event);
    } catch {
      // An observer bug must not fail a login.
    }
  };

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(workerUrl), job: undefined, idleTimer: undefined };
    slot.worker.on('online', () => {
      // Waiting for the thread to boot is waiting, not hashing: keeps runMs (and Retry-After) honest.
      if (slot.job !== undefined) slot.job.startedAt = performance.now();
    });
    // Only the reply to the slot's job: Node posts messages of its own on a worker's port too
    // (`node --watch-path`, as `npm run dev` runs, announces each module the worker imports).
    slot.worker.on('message', (message: unknown) => {
      if (isReplyTo(slot.job, message)) finish(slot, message);
    });
    slot.worker.on('error', (error) => fail(slot, error));
    slot.worker.on('exit', () => fail(slot, new HashPoolError('password hashing worker exited')));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    slot.worker.unref();
    slots.push(slot);
    return slot;
  }

  /** Takes a worker out of the pool and stops it; its exit is then expected, not a failure. */
  function retire(slot: Slot) {
    slot.idleTimer?.cancel();
    const index = slots.indexOf(slot);
    if (index !== -1) slots.splice(index, 1);
    void slot.worker.terminate();
  }

  function fail(slot: Slot, error: Error) {
    const job = slot.job;
    slot.job = undefined;
    job?.reject(error instanceof HashPoolError ? error : new HashPoolError(`password hashing worker failed: ${error.message}`));
    // Retired on purpose (idle, close) or already handled ('error' is followed by 'exit').
    if (closed || !slots.includes(slot)) return;
    retire(slot);
    if (++failures > size * 3) {
      broken = new HashPoolError(`password hashing workers keep failing: ${error.message}`);
      for (const waiting of queue.splice(0)) waiting.reject(broken);
      return;
    }
    // A replacement starts now if jobs wait, else with the next job.
    dispatch();
  }

  function finish(slot: Slot, reply: HashReply) {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    failures = 0;
    if (job !== undefined) {
      const runMs = performance.now() - job.startedAt;
      averageRunMs = averageRunMs * 0.8 + runMs * 0.2;
      if (reply.ok) job.resolve(reply.value);
      else job.reject(new HashPoolError(`password hashing failed: ${reply.error}`));
      emit({ type: 'completed', op: job.input.op, waitMs: job.startedAt - job.enqueuedAt, runMs, queueDepth: queue.length });
    }
    dispatch();
    if (slot.job === undefined) park(slot);
  }

  /** An idle worker exits after idleTimeoutMs unless a job arrives first (dispatch clears the timer). */
  function park(slot: Slot) {
    if (idleTimeoutMs === 0 || closed) return;
    slot.idleTimer = clockTimer(clock, idleTimeoutMs, () => retire(slot));
  }

  function dispatch() {
    while (queue.length > 0) {
      let slot = slots.find((candidate) => candidate.job === undefined);
      if (slot === undefined) {
        if (slots.length >= size) return;
        try {
          slot = spawn();
        } catch (error) {
          queue.shift()!.reject(new HashPoolError(`cannot start a password hashing worker: ${error instanceof Error ? error.message : String(error)}`));
          continue;
        }
      }
      const job = queue.shift()!;
      slot.idleTimer?.cancel();
      slot.idleTimer = undefined;
      slot.job = job;
      job.startedAt = performance.now();
      job.id = nextId++;
      slot.worker.ref();
      // A worker that is still booting receives the message once its port is set up.
      slot.worker.postMessage({ id: job.id, ...job.input } satisfies HashJob);
    }
  }

  function busy(): number {
    return slots.filter((slot) => slot.job !== undefined).length;
  }

  function submit(input: JobInput): Promise<string | boolean> {
    if (closed) return Promise.reject(new HashPoolError('password hasher is closed'));
    if (broken !== undefined) return Promise.reject(broken);
    const free = slots.length < size || slots.some((slot) => slot.job === undefined);
    if (!free && queue.length >= queueLimit) {
      const retryAfterSeconds = Math.max(1, Math.ceil(((queue.length + size) * averageRunMs) / size / 1000));
      emit({ type: 'rejected', queueDepth: queue.length, retryAfterSeconds });
      return Promise.reject(new HashQueueFullError(retryAfterSeconds));
    }
    return new Promise((resolve, reject) => {
      queue.push({ input, id: 0, enqueuedAt: performance.now(), startedAt: 0, resolve, reject });
      dispatch();
    });
  }

  return {
    params,
    async hash(password) {
      return (await submit({ op: 'hash', password, params })) as string;
    },
    async verify(hash, password) {
      return (await submit({ op: 'verify', password, hash })) === true;
    },
    async verifyDummy(password) {
      await submit({ op: 'verify', password, hash: dummy });
      return false;
    },
    needsRehash: (hash) => needsRehash(hash, params),
    warmUp() {
      if (closed || broken !== undefined || slots.length >= size || slots.some((slot) => slot.job === undefined)) return;
      try {
        park(spawn());
      } catch {
        // The next job tries again and reports the failure.
      }
    },
    stats: () => ({ size, workers: slots.length, busy: busy(), queued: queue.length, queueLimit }),
    async close() {
      if (closed) return;
      closed = true;
      for (const job of queue.splice(0)) job.reject(new HashPoolError('password hasher is closed'));
      for (const slot of slots) slot.job?.reject(new HashPoolError('password hasher is closed'));
      await Promise.all(
        slots.splice(0).map((slot) => {
          slot.idleTimer?.cancel();
          return slot.worker.terminate();
        }),
      );
    },
  };
}
