import { expect } from 'chai';
import { arrivalWait, MAX_ARRIVAL_WAIT_MS } from '../../src/limits/device-polls.ts';

/** How long before its judgement a device poll counts as having arrived (src/limits/device-polls.ts). */
describe('device poll arrival: the wait between a poll arriving and being judged', () => {
  it('is the stopwatch difference, in whole milliseconds', () => {
    expect(arrivalWait(1_000.25, 4_000.5)).to.equal(3_000);
  });

  it('is 0 when the arrival was not noted, or noted after the judgement (never negative)', () => {
    expect(arrivalWait(undefined, 4_000)).to.equal(0);
    expect(arrivalWait(5_000, 4_000)).to.equal(0);
    expect(arrivalWait(Number.NaN, 4_000)).to.equal(0);
  });

  it('counts at most a few intervals: a stray reading cannot put an arrival minutes back', () => {
    expect(MAX_ARRIVAL_WAIT_MS).to.equal(15_000);
    expect(arrivalWait(0, 600_000)).to.equal(MAX_ARRIVAL_WAIT_MS);
  });
});
