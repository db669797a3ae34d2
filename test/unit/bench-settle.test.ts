import { expect } from 'chai';
import { helpersPerRequest, settled, type WarmupWindow } from '../../bench/lib/settle.ts';

/** Windows of 1,000 requests each whose helper threads used these µs per request. */
const windows = (...perRequest: number[]): WarmupWindow[] => perRequest.map((us) => ({ requests: 1000, helpersMs: us }));

describe('bench warm-up until the JIT settles (bench/lib/settle.ts)', () => {
  it('reads the helper threads’ CPU per request of a window', () => {
    expect(helpersPerRequest({ requests: 2000, helpersMs: 300 })).to.equal(150);
    expect(helpersPerRequest({ requests: 0, helpersMs: 4 })).to.equal(4000);
  });

  it('is not settled before it has a level to compare with', () => {
    expect(settled(windows())).to.equal(false);
    expect(settled(windows(100, 100, 100))).to.equal(false);
  });

  it('is not settled while the helper threads’ CPU per request is still falling', () => {
    expect(settled(windows(300, 250, 200, 150))).to.equal(false);
    expect(settled(windows(400, 200, 160, 120))).to.equal(false);
  });

  it('is settled once three windows in a row read near the lowest', () => {
    expect(settled(windows(300, 200, 100, 100, 100, 100))).to.equal(true);
    // within a quarter of the lowest, plus 10 µs
    expect(settled(windows(300, 100, 120, 130, 110))).to.equal(true);
    expect(settled(windows(40, 20, 28, 30, 25))).to.equal(true);
  });

  it('is not settled while the JIT still comes in bursts', () => {
    expect(settled(windows(300, 100, 100, 200, 100, 100))).to.equal(false);
    expect(settled(windows(300, 100, 100, 200, 100, 100, 100))).to.equal(true);
  });

  it('is not settled while the JIT still writes machine code, where the server reports it', () => {
    const level = (codeBytes: number): WarmupWindow => ({ requests: 1000, helpersMs: 100, codeBytes });
    expect(settled([level(500_000), level(0), level(0), level(200_000)])).to.equal(false);
    expect(settled([level(500_000), level(200_000), level(1000), level(-40_000)])).to.equal(false);
    expect(settled([level(500_000), level(1000), level(-40_000), level(2000)])).to.equal(true);
  });
});
