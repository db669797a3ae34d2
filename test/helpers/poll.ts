import { expect } from 'chai';

/**
 * How long a change notice (Redis pub/sub) may take to arrive and be acted on, on a machine
 * under heavy load. Tests that prove a notice did the work run on a frozen clock
 * (test/helpers/clock.ts), so no TTL can explain the change however long it took.
 */
export const NOTICE_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds until `check` holds, polling every 25 ms; fails after `limitMs`. */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= limitMs) {
    if (await check()) return Date.now() - started;
    await sleep(25);
  }
  return expect.fail(`not within ${limitMs} ms`);
}
