import { expect } from 'chai';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.ts';
import { RequestDurations, ThreeLabelHistogram } from '../../src/observability/request-durations.ts';

const NAME = 'gatehouse_http_request_duration_seconds';
const HELP = 'HTTP request duration by route template (or provider route name), method and status';
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Observation = readonly [route: string, method: string, status: number, seconds: number];

/** The same observations in prom-client's own Histogram and in RequestDurations, each in a registry of its own. */
function both(observations: readonly Observation[]) {
  const expected = new Registry();
  const histogram = new Histogram({ name: NAME, help: HELP, labelNames: ['route', 'method', 'status'] as const, buckets: BUCKETS, registers: [expected] });
  const actual = new Registry();
  const durations = new RequestDurations({ name: NAME, help: HELP, buckets: BUCKETS, registers: [actual] });
  for (const [route, method, status, seconds] of observations) {
    histogram.observe({ route, method, status: String(status) }, seconds);
    durations.observe(route, method, status, seconds);
  }
  return { expected, actual, durations };
}

// Every bucket edge, between edges, beyond the last one, zero; several label sets sharing route or method.
const OBSERVATIONS: Observation[] = [
  ['userinfo', 'GET', 200, 0.0004],
  ['userinfo', 'GET', 200, 0.005],
  ['userinfo', 'GET', 200, 0.0051],
  ['userinfo', 'GET', 401, 0.2],
  ['userinfo', 'POST', 200, 0],
  ['token', 'POST', 200, 0.75],
  ['token', 'POST', 400, 10],
  ['token', 'POST', 200, 12.5],
  ['/interaction/:uid', 'GET', 200, 2.5],
  ['other', 'other', 404, 0.03],
  ...BUCKETS.map((bound): Observation => ['discovery', 'GET', 200, bound]),
];

describe('RequestDurations (the request histogram)', () => {
  it("scrapes as exactly the text prom-client's Histogram gives for the same observations", async () => {
    const { expected, actual } = both(OBSERVATIONS);
    const text = await actual.metrics();
    expect(text).to.equal(await expected.metrics());
    expect(text).to.include(`${NAME}_bucket{le="0.005",route="userinfo",method="GET",status="200"} 2`);
    expect(text).to.include(`${NAME}_bucket{le="+Inf",route="token",method="POST",status="200"} 2`);
    expect(text).to.include(`${NAME}_count{route="token",method="POST",status="400"} 1`);
  });

  it("gives the same JSON (what a worker sends) and adds up across workers as prom-client's does", async () => {
    const first = both(OBSERVATIONS);
    const second = both(OBSERVATIONS.slice(3));
    expect(await first.actual.getMetricsAsJSON()).to.deep.equal(JSON.parse(JSON.stringify(await first.expected.getMetricsAsJSON())));
    const summed = (one: Registry, two: Registry) => Promise.all([one.getMetricsAsJSON(), two.getMetricsAsJSON()]).then((all) => AggregatorRegistry.aggregate(all as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics());
    expect(await summed(first.actual, second.actual)).to.equal(await summed(first.expected, second.expected));
  });

  it('is found by name, exports nothing before the first request and nothing after a reset', async () => {
    const { actual, durations } = both([]);
    expect(actual.getSingleMetric(NAME)).to.equal(durations);
    expect(await actual.metrics()).to.equal(`# HELP ${NAME} ${HELP}\n# TYPE ${NAME} histogram\n`);
    durations.observe('token', 'POST', 200, 0.01);
    expect(await actual.metrics()).to.include(`${NAME}_count{route="token",method="POST",status="200"} 1`);
    actual.resetMetrics();
    expect(await actual.metrics()).to.equal(`# HELP ${NAME} ${HELP}\n# TYPE ${NAME} histogram\n`);
  });

  it('refuses a duration that is not a number, as prom-client does, and leaves the series untouched', async () => {
    const { actual, durations } = both([['token', 'POST', 200, 0.01]]);
    expect(() => durations.observe('token', 'POST', 200, Number.NaN)).to.throw(TypeError);
    expect(() => durations.observe('token', 'POST', 200, Number.POSITIVE_INFINITY)).to.throw(TypeError);
    expect(await actual.metrics()).to.include(`${NAME}_count{route="token",method="POST",status="200"} 1`);
  });
});

describe('ThreeLabelHistogram (the store operations histogram)', () => {
  const STORAGE = 'gatehouse_storage_operation_duration_seconds';
  const STORAGE_HELP = 'oidc-provider adapter operations by model, store and operation';
  const STORAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const operations: ReadonlyArray<readonly [model: string, store: string, operation: string, seconds: number]> = [
    ['Session', 'mongodb', 'find', 0.0003],
    ['Session', 'mongodb', 'upsert', 0.004],
    ['Session', 'redis', 'find', 0.0005],
    ['AccessToken', 'redis', 'upsert', 3],
    ['Grant', 'mongodb', 'find', 0.02],
    ...STORAGE_BUCKETS.map((bound) => ['Interaction', 'redis', 'destroy', bound] as const),
  ];

  it("scrapes and aggregates as prom-client's Histogram with the labels model, store, operation", async () => {
    const expected = new Registry();
    const histogram = new Histogram({ name: STORAGE, help: STORAGE_HELP, labelNames: ['model', 'store', 'operation'] as const, buckets: STORAGE_BUCKETS, registers: [expected] });
    const actual = new Registry();
    const storage = new ThreeLabelHistogram({ name: STORAGE, help: STORAGE_HELP, labelNames: ['model', 'store', 'operation'], buckets: STORAGE_BUCKETS, registers: [actual] });
    for (const [model, store, operation, seconds] of operations) {
      histogram.observe({ model, store, operation }, seconds);
      storage.observe(model, store, operation, seconds);
    }
    expect(await actual.metrics()).to.equal(await expected.metrics());
    expect(await actual.getMetricsAsJSON()).to.deep.equal(JSON.parse(JSON.stringify(await expected.getMetricsAsJSON())));
  });

  it("is what Gatehouse's metrics report for the adapters' operations", async () => {
    const metrics = createMetrics();
    metrics.onOperation({ model: 'Session', store: 'mongodb', operation: 'find', durationMs: 0.7 });
    metrics.onOperation({ model: 'Session', store: 'mongodb', operation: 'find', durationMs: 3 });
    const text = await metrics.registry.metrics();
    expect(text).to.include(`${STORAGE}_bucket{le="0.001",model="Session",store="mongodb",operation="find"} 1`);
    expect(text).to.include(`${STORAGE}_count{model="Session",store="mongodb",operation="find"} 2`);
    expect(text).to.include(`${STORAGE}_sum{model="Session",store="mongodb",operation="find"} 0.0037`);
  });
});
