import type { Clock, ClockTimer } from '../clock.ts';

/** sysexits.h EX_CONFIG: a worker found the configuration wrong; restarting will not help. */
export const EXIT_CONFIG = 78;

/** What a worker says about itself once it serves (the fields of the "gatehouse ready" line). */
export interface WorkerReady {
  readonly issuer: string;
  readonly listening: string;
  readonly env: string;
  readonly metrics: string;
}

/** One worker process as the supervisor sees it (node:cluster's Worker, or a test's fake). */
export interface SupervisedWorker {
  readonly id: number;
  /** Its process id, for the log (an operator or a test may signal one worker). */
  readonly pid?: number | undefined;
  /** Sends a signal to the worker's process. */
  signal(signal: NodeJS.Signals): void;
}

/** How workers come to be and report back: node:cluster in src/cluster/primary.ts. */
export interface WorkerSpawner {
  /** Starts a worker; it reports through `ready` and `exited` below. */
  fork(): SupervisedWorker;
}

export interface SupervisorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface SupervisorOptions {
  /** How many workers serve (GATEHOUSE_WORKERS). */
  readonly workers: number;
  readonly spawner: WorkerSpawner;
  readonly clock: Clock;
  /** Runs `run` after `ms` on the clock (a real timer that keeps the process alive in production). */
  readonly schedule: (ms: number, run: () => void) => ClockTimer;
  readonly logger: SupervisorLogger;
  /** Called once: every worker is ready for the first time. */
  readonly onReady: (ready: WorkerReady & { readonly workers: number }) => void;
  /** Ends the supervisor's process with this code; called exactly once. */
  readonly exit: (code: number) => void;
  /** How long a worker may take to drain (GATEHOUSE_SHUTDOWN_TIMEOUT); the stop's bound adds a margin. */
  readonly shutdownTimeoutMs: number;
}

/** More unexpected exits than this many per worker within CRASH_WINDOW_MS: give up. */
export const CRASHES_PER_WORKER = 2;
export const CRASH_WINDOW_MS = 60_000;
/** Wait before replacing a worker, by how many crashed within the window (the first at once). */
export const RESTART_DELAYS_MS = [0, 1_000, 2_000, 5_000, 10_000, 30_000] as const;
/** What a stop adds to the shutdown timeout before the workers still running are killed. */
export const STOP_MARGIN_MS = 5_000;

export interface Supervisor {
  /** Forks the first worker; the others follow once it is ready (first-run bootstrap runs once). */
  start(): void;
  /** A worker said it is ready. */
  ready(worker: SupervisedWorker, info: WorkerReady): void;
  /** A worker's process ended. */
  exited(worker: SupervisedWorker, code: number | null, signal: string | null): void;
  /** SIGTERM / SIGINT to the supervisor: every worker drains, then the supervisor exits 0. */
  stop(signal: NodeJS.Signals): void;
  /** The workers running now (ready or starting); metrics are collected from the ready ones. */
  readyWorkers(): readonly SupervisedWorker[];
}

/**
 * The policy of GATEHOUSE_WORKERS' primary process, which serves nothing itself: start worker 1
 * and wait for it (keys, indexes and the first administrator are then created once), then the
 * rest; announce readiness once; replace a worker that dies unexpectedly, at once and then with
 * growing delays, and give up (exit 1) when workers keep dying; stop everything with 78 when a
 * worker finds the configuration wrong; on SIGTERM/SIGINT let every worker drain and exit 0.
 */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { workers, spawner, clock, schedule, logger } = options;
  const running = new Map<number, { worker: SupervisedWorker; ready: boolean }>();
  const restarts = new Set<ClockTimer>();
  let crashes: number[] = [];
  let firstReady: WorkerReady | undefined;
  let announced = false;
  let stopping: { code: number; bound: ClockTimer } | undefined;
  let exited = false;

  function fork(): void {
    const worker = spawner.fork();
    running.set(worker.id, { worker, ready: false });
    logger.info({ workerId: worker.id, pid: worker.pid }, 'worker starting');
  }

  function finish(code: number): void {
    if (exited) return;
    exited = true;
    stopping?.bound.cancel();
    options.exit(code);
  }

  function stopAll(code: number, signal: NodeJS.Signals): void {
    if (stopping !== undefined) return;
    for (const timer of restarts) timer.cancel();
    restarts.clear();
    const bound = schedule(options.shutdownTimeoutMs + STOP_MARGIN_MS, () => {
      logger.error({ workers: [...running.keys()] }, 'workers did not stop in time; killing them');
      for (const { worker } of running.values()) worker.signal('SIGKILL');
      finish(code === 0 ? 1 : code);
    });
    stopping = { code, bound };
    for (const { worker } of running.values()) worker.signal(signal);
    if (running.size === 0) finish(code);
  }

  function replace(worker: SupervisedWorker, code: number | null, signal: string | null): void {
    const now = clock.now();
    crashes = [...crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    if (crashes.length > CRASHES_PER_WORKER * workers) {
      logger.error({ workerId: worker.id, exitCode: code, signal, crashes: crashes.length, windowSeconds: CRASH_WINDOW_MS / 1000 }, 'workers keep dying; giving up');
      stopAll(1, 'SIGTERM');
      return;
    }
    const delayMs = RESTART_DELAYS_MS[Math.min(crashes.length, RESTART_DELAYS_MS.length) - 1]!;
    logger.error({ workerId: worker.id, exitCode: code, signal, restartInMs: delayMs }, 'worker died; replacing it');
    if (delayMs === 0) return fork();
    const timer = schedule(delayMs, () => {
      restarts.delete(timer);
      if (stopping === undefined) fork();
    });
    restarts.add(timer);
  }

  return {
    start() {
      fork();
    },
    ready(worker, info) {
      const entry = running.get(worker.id);
      if (entry === undefined || entry.ready || stopping !== undefined) return;
      entry.ready = true;
      firstReady ??= info;
      if (announced) {
        logger.info({ workerId: worker.id }, 'worker ready');
        return;
      }
      if (running.size === 1 && workers > 1) {
        // Worker 1 has bootstrapped the stores; the others start against them.
        for (let n = 1; n < workers; n++) fork();
        return;
      }
      if ([...running.values()].every((each) => each.ready) && running.size === workers) {
        announced = true;
        options.onReady({ ...firstReady, workers });
      }
    },
    exited(worker, code, signal) {
      const entry = running.get(worker.id);
      if (entry === undefined) return;
      running.delete(worker.id);
      if (stopping !== undefined) {
        // A worker that could not drain cleanly (its own "shutdown failed") fails the stop too.
        if (stopping.code === 0 && code !== null && code !== 0) stopping = { ...stopping, code: 1 };
        if (running.size === 0) finish(stopping.code);
        return;
      }
      if (code === EXIT_CONFIG) {
        logger.error({ workerId: worker.id, exitCode: code }, 'worker stopped on a configuration error; stopping');
        stopAll(EXIT_CONFIG, 'SIGTERM');
        return;
      }
      if (!announced) {
        // A start that fails is not retried here, as without workers: the process manager
        // sees the exit code (and the worker's reason on stderr).
        logger.error({ workerId: worker.id, exitCode: code, signal }, 'worker failed to start; stopping');
        stopAll(code === null || code === 0 ? 1 : code, 'SIGTERM');
        return;
      }
      replace(worker, code, signal);
    },
    stop(signal) {
      if (stopping !== undefined) return;
      logger.info({ signal, workers: running.size }, 'shutting down: every worker finishes its in-flight requests');
      stopAll(0, signal);
    },
    readyWorkers() {
      return [...running.values()].filter((each) => each.ready).map((each) => each.worker);
    },
  };
}
