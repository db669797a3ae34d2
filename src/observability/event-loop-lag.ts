import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * How often the event loop's delay is sampled. prom-client's default (10 ms) wakes an idle
 * server 100 times a second: measured, over half of an idle Gatehouse's CPU (1.25 % of a core
 * with it, 0.53 % without, 0.70 % at 100 ms; docs/PERFORMANCE.md, *Idle CPU*).
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** The delay gauges prom-client's default metrics add (the same names, help and cluster aggregation). */
const DELAY_GAUGES = [
  ['nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', 'min', (h: ELDHistogram) => h.min],
  ['nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 'max', (h: ELDHistogram) => h.max],
  ['nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', 'average', (h: ELDHistogram) => h.mean],
  ['nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.', 'average', (h: ELDHistogram) => h.stddev],
  ['nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', 'average', (h: ELDHistogram) => h.percentile(50)],
  ['nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', 'average', (h: ELDHistogram) => h.percentile(90)],
  ['nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', 'average', (h: ELDHistogram) => h.percentile(99)],
] as const;

export const EVENT_LOOP_LAG_METRICS = ['nodejs_eventloop_lag_seconds', ...DELAY_GAUGES.map(([name]) => name)] as const;

export interface EventLoopLagOptions {
  readonly sampleMs?: number;
  /** The histogram's source (tests pass one they fill). */
  readonly monitor?: (options: { resolution: number }) => ELDHistogram;
}

/**
 * The delay a histogram recorded beyond its own sampling interval, in seconds. Node's histogram
 * records the time between two of its timer's ticks, so each value is the interval plus the
 * delay; prom-client reports them as they are (an idle loop reads ≈ 10 ms, its interval). With a
 * coarser interval that offset would read as delay, so it is taken off: what is left is how late
 * the loop ran the tick. An interval with no sample (nothing recorded) reads 0.
 */
export function delaySeconds(recordedNs: number, count: number, sampleMs: number): number {
  if (count === 0 || !Number.isFinite(recordedNs)) return 0;
  return Math.max(0, recordedNs - sampleMs * 1e6) / 1e9;
}

/**
 * `nodejs_eventloop_lag_seconds` and the delay gauges of prom-client's default metrics, from a
 * histogram sampled every `sampleMs` (replaces prom-client's own: `replaceEventLoopLag`).
 * `nodejs_eventloop_lag_seconds` is what prom-client measures: how long a setImmediate waits at
 * scrape time. The others describe the delays recorded since the previous scrape, as before;
 * since they are sampled ten times less often, a stall shorter than the interval is caught in
 * proportion to its length (a 20 ms stall one time in five) rather than nearly always.
 * The standard deviation is the raw histogram's (the offset does not change it).
 */
export function registerEventLoopLag(registry: Registry, { sampleMs = EVENT_LOOP_SAMPLE_MS, monitor = monitorEventLoopDelay }: EventLoopLagOptions = {}): void {
  const histogram = monitor({ resolution: sampleMs });
  histogram.enable();
  const registers = [registry];
  // Registered first, as in prom-client: a scrape runs its collect (which sets them all) before reading the others.
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    aggregator: 'average',
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => this.set(Number(process.hrtime.bigint() - start) / 1e9));
      for (const { gauge, name, read } of gauges) {
        const value = read(histogram);
        gauge.set(name === 'nodejs_eventloop_lag_stddev_seconds' ? (histogram.count === 0 ? 0 : value / 1e9) : delaySeconds(value, histogram.count, sampleMs));
      }
      histogram.reset();
    },
  });
  const gauges = DELAY_GAUGES.map(([name, help, aggregator, read]) => ({ gauge: new Gauge({ name, help, registers, aggregator }), name, read }));
}

/**
 * Swaps the event-loop delay metrics of prom-client's default set for `registerEventLoopLag`'s.
 * prom-client has no switch for its monitor: `collectDefaultMetrics` must be called with
 * `eventLoopMonitoringPrecision: DORMANT_MONITOR_MS` (its timer then ticks once in 24 days), and
 * its eight gauges are removed here.
 */
export function replaceEventLoopLag(registry: Registry, options?: EventLoopLagOptions): void {
  for (const name of EVENT_LOOP_LAG_METRICS) registry.removeSingleMetric(name);
  registerEventLoopLag(registry, options);
}

/** The longest interval a Node timer takes (2^31 − 1 ms): prom-client's monitor, left asleep. */
export const DORMANT_MONITOR_MS = 2 ** 31 - 1;
