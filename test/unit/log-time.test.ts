import { expect } from 'chai';
import { pino } from 'pino';
import { isoTimeOncePerSecond } from '../../src/observability/log-time.ts';

/** pino's own isoTime at a given moment (it reads Date.now()). */
function pinoIsoTime(at: number): string {
  const realNow = Date.now;
  Date.now = () => at;
  try {
    return pino.stdTimeFunctions.isoTime();
  } finally {
    Date.now = realNow;
  }
}

describe('log line time, formatted once per second', () => {
  it("writes what pino's isoTime writes, at every millisecond of a second, across seconds, minutes, years and before 1970", () => {
    const moments = [
      0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, -1001, 1_764_633_599_999, 1_764_633_600_000, 1_764_633_600_007,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1, 0, 0, 0, 0), Date.UTC(10_000, 0, 1, 0, 0, 0, 42), Date.UTC(1969, 11, 31, 23, 59, 59, 5),
    ];
    let at = 0;
    const time = isoTimeOncePerSecond(() => at);
    for (const moment of moments) {
      at = moment;
      expect(time(), String(moment)).to.equal(pinoIsoTime(moment));
    }
    // Every millisecond of two seconds in a row, forwards and then backwards (a clock set back).
    const start = Date.UTC(2026, 11, 1, 23, 58, 11, 0);
    for (const step of [1, -1]) {
      for (let offset = 0; offset < 2000; offset += 1) {
        at = step === 1 ? start + offset : start + 1999 - offset;
        expect(time()).to.equal(pinoIsoTime(at));
      }
    }
  });
});
