import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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
   * An interval below this share (CPU, or the event loop's), after activity, counts as quiet:
   * time to give memory back. An idle Gatehouse uses ≈ 1 % of a core (timers, the event-loop
   * delay monitor's 10 ms ticks, store heartbeats).
   */
  readonly idleShare?: number;
  /** Told each time memory is given back (how long the collection took). */
  readonly onCollect?: (durationMs: number) => void;
}

/**
 * The decision, sample by sample: true once per quiet spell that follows activity (an interval
 * whose CPU is at least `busy`), when an interval's CPU or event-loop share is below `idle`.
 * Busy is read from CPU time, not the event loop's utilisation: on a machine other processes
 * load, an idle server's loop wakes up (timers, the event-loop delay monitor's 10 ms ticks) and
 * waits for a core before it goes back to sleep, so its utilisation reads 1–5 % with nothing to
 * do, while its CPU time stays at its idle floor. Quiet is either share below `idle`.
 */
export function quietAfterActivity(busy: number, idle: number): (sample: ActivitySample) => boolean {
  let active = false;
  return ({ loop, cpu }) => {
    if (cpu >= busy) {
      active = true;
      return false;
    }
    if (!active || Math.min(loop, cpu) >= idle) return false;
    active = false;
    return true;
  };
}

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** V8's gc() without starting node with --expose-gc: the flag, then a fresh context that has it. */
export function v8Collector(): Collect {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

/** The process's activity since the previous call (the first call: since the start). */
function activitySampler(): () => ActivitySample {
  let loopBefore = performance.eventLoopUtilization();
  let cpuBefore = process.cpuUsage();
  let at = performance.now();
  return () => {
    const loopNow = performance.eventLoopUtilization();
    const cpu = process.cpuUsage(cpuBefore);
    const now = performance.now();
    const sample = { loop: performance.eventLoopUtilization(loopNow, loopBefore).utilization, cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, now - at) };
    loopBefore = loopNow;
    cpuBefore = process.cpuUsage();
    at = now;
    return sample;
  };
}

/**
 * Gives memory back once a burst of traffic has passed. V8 collects garbage when JavaScript
 * allocates; an idle server allocates almost nothing, so after a load the old generation keeps
 * its garbage and the young generation stays at its grown size (measured: 128 MiB committed,
 * 8 MiB used, 70 s after the load) — RSS stayed at 2–3× the cold idle. When the process was
 * busy and then goes quiet, this runs one full collection of the kind V8 uses under memory
 * pressure ("last resort": compacts, shrinks the young generation, releases pooled pages).
 * It blocks the loop for tens of milliseconds (longer on a machine short of cores), only when
 * nothing else is happening; its own time is not counted as activity (sampling restarts after
 * it), so a slow collection never arms the next one.
 */
export function startIdleCollector({ intervalMs = 10_000, busyShare = 0.05, idleShare = 0.02, onCollect }: IdleCollectorOptions = {}): IdleCollector {
  const collect = v8Collector();
  const sample = activitySampler();
  const quiet = quietAfterActivity(busyShare, idleShare);
  const timer = setInterval(() => {
    if (!quiet(sample())) return;
    const started = performance.now();
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    onCollect?.(performance.now() - started);
    sample();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
