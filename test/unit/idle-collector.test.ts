import { expect } from 'chai';
import { quietAfterActivity, v8Collector } from '../../src/observability/idle-collector.ts';

describe('idle collector (memory given back after a burst)', () => {
  it('collects once per quiet spell that follows activity, never on an idle server', () => {
    const quiet = quietAfterActivity(0.05, 0.01);
    expect([0, 0.001, 0.2].map(quiet), 'idle from the start, then busy').to.deep.equal([false, false, false]);
    expect([0.5, 0.02, 0.005].map(quiet), 'busy, winding down, quiet').to.deep.equal([false, false, true]);
    expect([0.001, 0].map(quiet), 'still quiet: already collected').to.deep.equal([false, false]);
    expect([0.3, 0.004].map(quiet), 'the next burst').to.deep.equal([false, true]);
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
