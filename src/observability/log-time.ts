/**
 * pino's `timestamp` for the log lines: the same `,"time":"<ISO 8601, milliseconds, UTC>"` as
 * pino.stdTimeFunctions.isoTime, which makes a Date and formats it for every line. Here the
 * text up to the second is formatted once per second and the milliseconds appended (one line a
 * request at the default level `info`, the access log's; docs/PERFORMANCE.md, perf21u). `now`
 * is the wall clock in whole milliseconds (Date.now): the lines say when they were written,
 * whatever clock the instance serves on.
 */
export function isoTimeOncePerSecond(now: () => number = Date.now): () => string {
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const at = now();
    const milliseconds = ((at % 1000) + 1000) % 1000;
    const whole = at - milliseconds;
    if (whole !== second) {
      second = whole;
      // "2026-12-01T23:58:12.000Z" without its "000Z" (in any year the milliseconds are the last four characters).
      prefix = new Date(whole).toISOString().slice(0, -4);
    }
    return `,"time":"${prefix}${milliseconds < 10 ? '00' : milliseconds < 100 ? '0' : ''}${milliseconds}Z"`;
  };
}
