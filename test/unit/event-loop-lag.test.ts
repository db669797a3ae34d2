import type { ELDHistogram } from 'node:perf_hooks';
import { expect } from 'chai';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { delaySeconds, EVENT_LOOP_LAG_METRICS, registerEventLoopLag } from '../../src/observability/event-loop-lag.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

const MS = 1e6;

/** A histogram the test fills: what Node's records (the time between two ticks, in ns). */
function filledHistogram(values: number[]): ELDHistogram & { resets: number; resolution?: number } {
  const sorted = () => [...values].sort((a, b) => a - b);
  const histogram = {
    resets: 0,
    get count() {
      return values.length;
    },
    get min() {
      return values.length === 0 ? 9223372036854776000 : Math.min(...values);
    },
    get max() {
      return values.length === 0 ? 0 : Math.max(...values);
    },
    get mean() {
      return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
    },
    get stddev() {
      return values.length === 0 ? Number.NaN : 3 * MS;
    },
    percentile(p: number) {
      const all = sorted();
      return all.length === 0 ? 0 : all[Math.min(all.length - 1, Math.ceil((p / 100) * all.length) - 1)]!;
    },
    reset() {
      histogram.resets += 1;
      values = [];
    },
    enable: () => true,
    disable: () => true,
  };
  return histogram as unknown as ELDHistogram & { resets: number };
}

async function values(registry: Registry): Promise<Map<string, number>> {
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.filter((metric) => metric.name.startsWith('nodejs_eventloop_lag_')).map((metric) => [metric.name, metric.values[0]?.value ?? Number.NaN]));
}

describe('event-loop delay metrics (sampled every 100 ms)', () => {
  it("exports prom-client's eight event-loop metrics under the same names, help, types and cluster aggregation", async () => {
    const theirs = new Registry();
    collectDefaultMetrics({ register: theirs });
    const ours = createMetrics().registry;
    const shape = async (registry: Registry) =>
      (await registry.getMetricsAsJSON())
        .filter((metric) => metric.name.startsWith('nodejs_eventloop_lag'))
        .map(({ name, help, type, aggregator }) => ({ name, help, type, aggregator }))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(await shape(ours)).to.deep.equal(await shape(theirs));
    expect((await shape(ours)).map((metric) => metric.name)).to.have.members([...EVENT_LOOP_LAG_METRICS]);
  });

  it('reports how late the ticks ran, without the sampling interval Node counts in, and starts afresh at each scrape', async () => {
    const registry = new Registry();
    let histogram: ReturnType<typeof filledHistogram> | undefined;
    registerEventLoopLag(registry, {
      sampleMs: 100,
      monitor: ({ resolution }) => {
        expect(resolution).to.equal(100);
        histogram = filledHistogram([100.5 * MS, 101 * MS, 102 * MS, 140 * MS]);
        return histogram;
      },
    });
    const read = await values(registry);
    expect(read.get('nodejs_eventloop_lag_min_seconds')).to.be.closeTo(0.0005, 1e-9);
    expect(read.get('nodejs_eventloop_lag_max_seconds')).to.be.closeTo(0.04, 1e-9);
    expect(read.get('nodejs_eventloop_lag_mean_seconds')).to.be.closeTo((0.5 + 1 + 2 + 40) / 4 / 1000, 1e-9);
    expect(read.get('nodejs_eventloop_lag_p50_seconds')).to.be.closeTo(0.001, 1e-9);
    expect(read.get('nodejs_eventloop_lag_p99_seconds')).to.be.closeTo(0.04, 1e-9);
    expect(read.get('nodejs_eventloop_lag_stddev_seconds'), 'the spread is not offset').to.be.closeTo(0.003, 1e-9);
    expect(histogram!.resets).to.equal(1);
    const idle = await values(registry);
    expect([...idle].filter(([name]) => name !== 'nodejs_eventloop_lag_seconds').map(([, value]) => value), 'nothing recorded since the last scrape').to.deep.equal([0, 0, 0, 0, 0, 0, 0]);
  });

  it('never reads a tick that came early (the loop clock rounds to milliseconds) as negative', () => {
    expect(delaySeconds(99.4 * MS, 1, 100)).to.equal(0);
    expect(delaySeconds(110 * MS, 1, 100)).to.be.closeTo(0.01, 1e-9);
    expect(delaySeconds(9223372036854776000, 0, 100)).to.equal(0);
  });
});
