import { expect } from 'chai';
import { helpersPerRequest, settled, type WarmupWindow } from '../../bench/lib/settle.ts';

/** Windows of 1,000 requests each whose helper threads used these µs per request. */
const windows = (...perRequest: number[]): WarmupWindow[] => perRequest.map((us) => ({ requests: 1000, helpersMs: us }));

describe('bench warm-up until the JIT settles (bench/lib/settle.ts)', () => {
  it('reads the helper threads’ CPU per request of a window', () => {
    expect(helpersPerRequest({ requests: 2000, helpersMs: 300 })).to.equal(150);
    expect(helpersPerRequest({ requests: 0, helpersMs: 4 })).to.equal(4000);
  });

  it('is not settled before two spans of three windows have read level', () => {
    expect(settled(windows())).to.equal(false);
    expect(settled(windows(100, 100, 100, 100, 100))).to.equal(false);
    expect(settled(windows(100, 100, 100, 100, 100, 100))).to.equal(true);
  });

  it('is not settled while the helper threads’ CPU per request is still falling', () => {
    expect(settled(windows(300, 250, 200, 150, 100, 50))).to.equal(false);
    expect(settled(windows(400, 300, 200, 160, 120, 100, 90))).to.equal(false);
  });

  it('is settled once six windows in a row read near the lowest three in a row', () => {
    expect(settled(windows(300, 200, 100, 100, 100, 100, 100, 100))).to.equal(true);
    // within a quarter of the lowest, plus 10 µs
    expect(settled(windows(300, 100, 120, 130, 110, 100, 120))).to.equal(true);
    expect(settled(windows(40, 20, 28, 30, 25, 24, 22))).to.equal(true);
  });

  it('is not settled while the JIT still comes in bursts', () => {
    expect(settled(windows(300, 100, 100, 100, 400, 100, 100))).to.equal(false);
    expect(settled(windows(300, 100, 100, 100, 400, 100, 100, 100))).to.equal(false);
    expect(settled(windows(300, 100, 100, 100, 400, 100, 100, 100, 100, 100, 100))).to.equal(true);
  });

  it('is not held back by a window that read 0 (stat’s ticks over few requests)', () => {
    expect(settled(windows(150, 60, 0, 40, 30, 20, 30, 40))).to.equal(true);
  });

  it('is not settled while the JIT still writes machine code, where the server reports it', () => {
    const level = (codeBytes: number): WarmupWindow => ({ requests: 1000, helpersMs: 100, codeBytes });
    expect(settled([500_000, 0, 0, 0, 0, 200_000].map(level))).to.equal(false);
    expect(settled([500_000, 0, 0, 0, 200_000, 1000].map(level))).to.equal(false);
    expect(settled([500_000, 200_000, 0, 1000, -40_000, 2000].map(level))).to.equal(true);
  });
});
