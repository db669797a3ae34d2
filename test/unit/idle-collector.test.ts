import { expect } from 'chai';
import { quietAfterActivity, v8Collector, type ActivitySample } from '../../src/observability/idle-collector.ts';

/** Samples with the event loop's share as busy as the CPU's, as on a machine with cores to spare. */
const alike = (...shares: number[]): ActivitySample[] => shares.map((share) => ({ loop: share, cpu: share }));

describe('idle collector (memory given back after a burst)', () => {
  it('collects once per quiet spell that follows activity, never on an idle server', () => {
    const quiet = quietAfterActivity(0.05, 0.02);
    expect(alike(0, 0.001, 0.03).map(quiet), 'idle from the start, then a little').to.deep.equal([false, false, false]);
    expect(alike(0.5, 0.03, 0.01).map(quiet), 'busy, winding down, quiet').to.deep.equal([false, false, true]);
    expect(alike(0.001, 0).map(quiet), 'still quiet: already collected').to.deep.equal([false, false]);
    expect(alike(0.3, 0.004).map(quiet), 'the next burst').to.deep.equal([false, true]);
  });

  it('takes a quiet server on a busy machine for quiet: its event loop waits for a core, its CPU stays at the idle floor', () => {
    // Read from a Gatehouse idling after load beside processes that kept both cores busy: its
    // loop's utilisation stayed at 1.5–5 % with no request, its CPU at ≈ 1 % of a core.
    const quiet = quietAfterActivity(0.05, 0.02);
    expect(quiet({ loop: 0.6, cpu: 0.2 }), 'the load').to.equal(false);
    expect(quiet({ loop: 0.047, cpu: 0.0138 }), 'idle, the loop starved of cores').to.equal(true);
  });

  it('does not take a starved idle loop for activity', () => {
    const quiet = quietAfterActivity(0.05, 0.02);
    expect([{ loop: 0.08, cpu: 0.01 }, { loop: 0.005, cpu: 0.005 }].map(quiet)).to.deep.equal([false, false]);
  });

  it("reaches V8's collector without node's --expose-gc flag, and a collection frees garbage", () => {
    const collect = v8Collector();
    expect(collect).to.be.a('function');
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, index) => ({ index }));
    const before = process.memoryUsage().heapUsed;
    garbage = undefined;
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(garbage).to.equal(undefined);
    expect(process.memoryUsage().heapUsed).to.be.below(before);
  });
});
