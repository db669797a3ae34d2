import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import { clockTimer } from '../../src/clock.ts';
import type { PrimaryMessage, WorkerMessage } from '../../src/cluster/messages.ts';
import { metricsRelay } from '../../src/cluster/metrics-relay.ts';
import { workerLink } from '../../src/cluster/worker-link.ts';
import { testClock } from '../helpers/clock.ts';

/** One worker's registry with a request counter at `count`. */
async function workerMetrics(count: number): Promise<object[]> {
  const registry = new Registry();
  new Counter({ name: 'requests_total', help: 'requests', labelNames: ['route'], registers: [registry] }).inc({ route: 'token' }, count);
  return registry.getMetricsAsJSON();
}

describe('GATEHOUSE_WORKERS metrics relay (fake workers, frozen clock)', () => {
  const clock = testClock({ frozen: true });
  const setup = (ids: number[]) => {
    const sent: Array<[number, PrimaryMessage]> = [];
    const relay = metricsRelay({
      workers: () => ids.map((id) => ({ id, send: (message: PrimaryMessage) => void sent.push([id, message]) })),
      timeoutMs: 5_000,
      schedule: (ms, run) => clockTimer(clock, ms, run),
    });
    return { relay, sent };
  };

  it("asks every ready worker and hands their metrics back (the asking worker adds them up)", async () => {
    const { relay, sent } = setup([1, 2]);
    const scraped = relay.scrape();
    expect(sent.map(([id, message]) => [id, message.gatehouse])).to.deep.equal([
      [1, 'collect'],
      [2, 'collect'],
    ]);
    const id = sent[0]![1].id;
    const [four, three] = [await workerMetrics(4), await workerMetrics(3)];
    relay.collected(2, id, four, undefined);
    relay.collected(2, id, await workerMetrics(100), undefined); // a repeat is ignored
    relay.collected(1, id, three, undefined);
    expect(await scraped).to.deep.equal([four, three]);
  });

  it('a worker sums what the relay handed back into one Prometheus text', async () => {
    const { relay, sent } = setup([1, 2]);
    const toSupervisor: WorkerMessage[] = [];
    let deliver: (message: unknown) => void = () => {};
    const link = workerLink({ send: (message) => toSupervisor.push(message), on: (_event, listener) => void (deliver = listener) });
    const text = link.scrape();
    const asked = toSupervisor[0]!;
    expect(asked.gatehouse).to.equal('scrape');
    const metrics = relay.scrape();
    const id = sent[0]![1].id;
    relay.collected(1, id, await workerMetrics(3), undefined);
    relay.collected(2, id, await workerMetrics(4), undefined);
    deliver({ gatehouse: 'scraped', id: (asked as { id: number }).id, metrics: await metrics });
    expect(await text).to.match(/^requests_total\{route="token"\} 7$/m);
  });

  it('a worker that does not answer in time fails the scrape rather than giving a partial sum', async () => {
    const { relay, sent } = setup([1, 2]);
    const scraped = relay.scrape();
    relay.collected(1, sent[0]![1].id, await workerMetrics(3), undefined);
    const failed = scraped.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await clock.advance(5_000);
    expect(await failed).to.equal('workers 2 did not report their metrics within 5000 ms');
  });

  it('a worker that ends or reports an error during the scrape fails it at once', async () => {
    const { relay, sent } = setup([1, 2]);
    const first = relay.scrape();
    relay.gone(2);
    expect(await first.then(String, (error: Error) => error.message)).to.equal('worker 2 ended during the scrape');
    const second = relay.scrape();
    relay.collected(1, sent.at(-1)![1].id, undefined, 'not serving yet');
    expect(await second.then(String, (error: Error) => error.message)).to.equal('worker 1: not serving yet');
  });
});
