import { expect } from 'chai';

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
