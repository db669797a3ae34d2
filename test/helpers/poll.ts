import { expect } from 'chai';

/**
 * How long a change notice (Redis pub/sub) may take to arrive and be acted on, on a machine
 * under heavy load. Tests that prove a notice did the work run on a frozen clock
 * (test/helpers/clock.ts), so no TTL can explain the change however long it took.
 */
export const NOTICE_MS = 20_000;

/** Left to mocha after a wait gave up for the test's own timeout: the wait's failure, not mocha's, ends the test. */
const MOCHA_MARGIN_MS = 2_000;

/** The running test and when it began; set by the root hook below (its timeout is read when needed: a test may change it). */
let running: { readonly startedAt: number; readonly test: { timeout(): number } } | undefined;
if (typeof beforeEach === 'function') {
  beforeEach(function () {
    const test = this.currentTest;
    running = test === undefined ? undefined : { startedAt: Date.now(), test };
  });
}

/** Playwright's own limit for a wait or an action (its default): what a test of mocha's default 30 s has. */
const PLAYWRIGHT_DEFAULT_MS = 30_000;
/** Left to mocha after a Playwright wait that used the test's whole time. */
const PLAYWRIGHT_MARGIN_MS = 5_000;

/**
 * How long Playwright may wait (for a page, a locator, an action) in a test whose mocha timeout
 * is `timeoutMs` (0: none): its own 30 s, or, in a test given more (`this.timeout(180_000)`: many
 * pages, several sign-ins), all but the last seconds of that. With Playwright's 30 s alone, one
 * step that took longer on a loaded machine failed a test that had minutes left; the test's own
 * timeout still ends one that hangs.
 */
export function waitLimitFor(timeoutMs: number): number {
  if (timeoutMs === 0) return 0;
  return Math.max(PLAYWRIGHT_DEFAULT_MS, timeoutMs - PLAYWRIGHT_MARGIN_MS);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds until `check` holds, polling every 25 ms; fails after `limitMs`, or sooner when
 * the running test's own timeout would end it first (a test that did much before this wait on a
 * loaded machine): then this wait's failure, with its place in the test, says what it waited for,
 * instead of mocha's "Timeout of 30000ms exceeded".
 */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  const testMs = running?.test.timeout() ?? 0;
  const ownDeadline = testDeadline();
  const deadline = Math.min(started + limitMs, ownDeadline);
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() >= deadline) break;
    await sleep(25);
  }
  const waited = Date.now() - started;
  return expect.fail(deadline === ownDeadline && ownDeadline < started + limitMs ? `not within ${waited} ms, when the test's own ${testMs} ms ran out (of ${limitMs} ms allowed for the wait)` : `not within ${limitMs} ms`);
}

/** The moment a wait in the running test must give up for mocha's timeout not to end the test first (Infinity: none). */
export function testDeadline(): number {
  const testMs = running?.test.timeout() ?? 0;
  return running === undefined || testMs === 0 ? Infinity : running.startedAt + testMs - MOCHA_MARGIN_MS;
}

/**
 * Probes until `accept` takes what it answers (a thrown error is an answer too) and returns that;
 * polls every 250 ms, and returns the last answer when the running test is 2 s from its own
 * timeout, for the test's own expectation to fail on it. For what comes back on its own schedule
 * (a store reconnecting after a restart): no limit of its own that a loaded machine could miss.
 */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = testDeadline();
  for (;;) {
    const value = await probe().catch((error: unknown) => error as T);
    if (accept(value) || Date.now() >= deadline) return value;
    await sleep(250);
  }
}
