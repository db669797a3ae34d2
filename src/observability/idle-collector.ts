import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { clockTimer, systemClock, type Clock, type ClockTimer } from '../clock.ts';

export interface IdleCollector {
  stop(): void;
}

/** What one sampling interval looked like. */
export interface ActivitySample {
  /** Share of the interval the event loop was not waiting for events (performance.eventLoopUtilization). */
  readonly loop: number;
  /** CPU time of the whole process (every thread: the loop, GC, hashing, libuv) over the interval's wall time. */
  readonly cpu: number;
}

export interface IdleCollectorOptions {
  /** How often activity is sampled. */
  readonly intervalMs?: number;
  /** An interval whose CPU is at least this share of a core counts as activity. */
  readonly busyShare?: number;
  /**
   * An interval below this share (CPU, or the event loop's), after activity, counts as quiet.
   * An idle Gatehouse uses ≈ 0.5–0.7 % of a core (timers, store heartbeats, the event-loop delay
   * monitor's ticks every 100 ms; docs/PERFORMANCE.md, *Idle CPU*).
   */
  readonly idleShare?: number;
  /**
   * How long the process must stay quiet after activity before memory is given back: light
   * traffic has quiet intervals between its requests, and each collection blocks the loop for
   * tens of milliseconds.
   */
  readonly quietMs?: number;
  /** Told each time memory is given back (how long the collection took). */
  readonly onCollect?: (durationMs: number) => void;
  /** Paces the sampling and measures the quiet spell (tests move a clock of their own). */
  readonly clock?: Clock;
  /** The process's activity (tests pass samples of their own). */
  readonly sampler?: ActivitySampler;
  /** The full collection (tests count calls). */
  readonly collect?: Collect;
}

/** One sample's activity and the clock times (ms) it covers. */
export interface TimedSample extends ActivitySample {
  readonly from: number;
  readonly to: number;
}

export interface QuietRule {
  /** CPU share that counts as activity. */
  readonly busy: number;
  /** CPU or loop share below which an interval is quiet. */
  readonly idle: number;
  /** How long the quiet must last (clock ms, from the start of its first quiet interval). */
  readonly quietMs: number;
}

/**
 * The decision, sample by sample: true once per quiet spell that follows activity (an interval
 * whose CPU is at least `busy`), when intervals whose CPU or event-loop share is below `idle`
 * have followed each other for `quietMs`. An interval neither busy nor quiet ends the spell (the
 * next quiet one starts it again); a busy one also re-arms. After a true, nothing more until the
 * next activity: one collection per busy → quiet transition.
 * Busy is read from CPU time, not the event loop's utilisation: on a machine other processes
 * load, an idle server's loop wakes up (timers, store heartbeats) and waits for a core before it
 * goes back to sleep, so its utilisation reads 1–5 % with nothing to do, while its CPU time
 * stays at its idle floor. Quiet is either share below `idle`.
 */
export function quietAfterActivity({ busy, idle, quietMs }: QuietRule): (sample: TimedSample) => boolean {
  let active = false;
  let quietFrom: number | undefined;
  return ({ loop, cpu, from, to }) => {
    if (cpu >= busy) {
      active = true;
      quietFrom = undefined;
      return false;
    }
    if (!active) return false;
    if (Math.min(loop, cpu) >= idle) {
      quietFrom = undefined;
      return false;
    }
    quietFrom ??= from;
    if (to - quietFrom < quietMs) return false;
    active = false;
    quietFrom = undefined;
    return true;
  };
}

export type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Where V8's gc() comes from (tests pass their own). */
export interface CollectorSources {
  /** The main context's gc(), there when node was started with --expose-gc (`npm start`, the Dockerfile). */
  readonly exposed?: () => Collect | undefined;
  /** A gc() from a context made for it. */
  readonly fresh?: () => Collect;
}

/** The main context's gc(): node started with --expose-gc. */
export const exposedGc = (): Collect | undefined => {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as Collect) : undefined;
};

/** gc() without node's --expose-gc: the flag, then a fresh context that has it. */
export function freshContextGc(): Collect {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

/**
 * V8's gc(): the main context's when node was started with --expose-gc, otherwise one from a
 * context made at the first collection, not before. A context made this way arms V8's memory
 * reducer for the rest of the process's life (a plain node process's is dormant: it never ran in
 * the bench's traces of the reference); armed, it collects on its own after ≈ 8 s of little
 * allocation and then lets the old generation grow back slowly (≈ 1.1–1.8× its live size per full
 * collection instead of ≈ 4×), so a burst after a pause runs many full collections — 4–8 per 10,000 client_credentials tokens
 * against ≈ 2 with it off (docs/PERFORMANCE.md, perf22g). `node --expose-gc` gives gc() without a
 * context and leaves the reducer dormant; made lazily, a process that never idles after load never
 * makes the context.
 */
export function v8Collector({ exposed = exposedGc, fresh = freshContextGc }: CollectorSources = {}): Collect {
  const main = exposed();
  if (main !== undefined) return main;
  let made: Collect | undefined;
  return (options) => {
    made ??= fresh();
    made(options);
  };
}

export interface ActivitySampler {
  /** The process's activity since the previous read (or restart; the first: since the sampler was made). */
  read(): ActivitySample;
  /** Starts the next interval now (what happened until now is not counted). */
  restart(): void;
}

/** The process's event-loop utilisation and CPU time (all threads), interval by interval. */
export function activitySampler(): ActivitySampler {
  let loopBefore = performance.eventLoopUtilization();
  let cpuBefore = process.cpuUsage();
  let at = performance.now();
  const restart = () => {
    loopBefore = performance.eventLoopUtilization();
    cpuBefore = process.cpuUsage();
    at = performance.now();
  };
  return {
    read() {
      const loopNow = performance.eventLoopUtilization();
      const cpu = process.cpuUsage(cpuBefore);
      const now = performance.now();
      const sample = { loop: performance.eventLoopUtilization(loopNow, loopBefore).utilization, cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, now - at) };
      restart();
      return sample;
    },
    restart,
  };
}

/**
 * Gives memory back once a burst of traffic has passed. V8 collects garbage when JavaScript
 * allocates; an idle server allocates almost nothing, so after a load the old generation keeps
 * its garbage and the young generation stays at its grown size (measured: 128 MiB committed,
 * 8 MiB used, 70 s after the load) — RSS stayed at 2–3× the cold idle. When the process was
 * busy and then stays quiet for `quietMs`, this runs one full collection of the kind V8 uses
 * under memory pressure ("last resort": compacts, shrinks the young generation, releases pooled
 * pages). It blocks the loop for tens of milliseconds (longer on a machine short of cores), only
 * when nothing else is happening; its own time is not counted as activity (sampling restarts
 * after it), so a slow collection never arms the next one.
 */
export function startIdleCollector({
  intervalMs = 5_000,
  busyShare = 0.05,
  idleShare = 0.02,
  quietMs = 20_000,
  onCollect,
  clock = systemClock,
  sampler = activitySampler(),
  collect = v8Collector(),
}: IdleCollectorOptions = {}): IdleCollector {
  const quiet = quietAfterActivity({ busy: busyShare, idle: idleShare, quietMs });
  let from = clock.now();
  let timer: ClockTimer | undefined;
  let stopped = false;
  const tick = () => {
    const to = clock.now();
    const collectNow = quiet({ ...sampler.read(), from, to });
    if (collectNow) {
      const started = performance.now();
      collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      onCollect?.(performance.now() - started);
      sampler.restart();
    }
    from = clock.now();
    if (!stopped) timer = clockTimer(clock, intervalMs, tick);
  };
  timer = clockTimer(clock, intervalMs, tick);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
