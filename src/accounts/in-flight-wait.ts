import { setTimeout as sleep } from 'node:timers/promises';
import { SignInsInFlightError } from './errors.ts';

/**
 * The wait of a sign-in attempt that found no free place on one of its keys (the threshold's
 * worth of attempts already in flight: src/accounts/login-limiter.ts, docs/ACCOUNTS.md): it tries
 * again when an attempt of this process on the same (account, IP) pair ends, else polling
 * (25 ms, doubling to 200 ms: the attempts it waits for may run on another instance).
 */
export interface InFlightWait {
  /**
   * Runs `tryOnce` until it answers something other than `'busy'`, and answers that; after
   * `waitMs` of trying, SignInsInFlightError (503, retryable). `pair`: the attempt's
   * (account, IP) key, the one whose ends wake it.
   */
  run<T>(pair: string, tryOnce: () => Promise<T | 'busy'>): Promise<T>;
  /** An attempt of this process on `pair` ended: the first attempt waiting on it tries again now. */
  ended(pair: string): void;
}

export interface InFlightWaitDeps {
  /** How long (real time) an attempt waits for a free place before SignInsInFlightError. */
  readonly waitMs: number;
}

export function inFlightWait({ waitMs }: InFlightWaitDeps): InFlightWait {
  /** Attempts of this process waiting for a place, by (account, IP) key, first come first served. */
  const waiting = new Map<string, Array<() => void>>();

  /** Until an attempt of this process on the pair ends, or `ms` pass (one may end on another instance, or on another pair of the account or IP). */
  async function placeFreed(pair: string, ms: number): Promise<void> {
    const controller = new AbortController();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const queue = waiting.get(pair) ?? [];
    waiting.set(pair, queue);
    queue.push(wake);
    await Promise.race([woken, sleep(ms, undefined, { signal: controller.signal }).catch(() => {})]);
    controller.abort();
    const at = queue.indexOf(wake);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0 && waiting.get(pair) === queue) waiting.delete(pair);
  }

  return {
    /**
     * Tries until the attempt has a place: attempts in flight end within a verification, so a burst
     * of correct passwords goes through a threshold's worth at a time; guesses behind them find the
     * lock their predecessors' failures set. Waits in real time (not Gatehouse's clock, which tests
     * freeze).
     */
    async run(pair, tryOnce) {
      const started = performance.now();
      for (let pause = 25; ; pause = Math.min(pause * 2, 200)) {
        const outcome = await tryOnce();
        if (outcome !== 'busy') return outcome;
        if (performance.now() - started >= waitMs) throw new SignInsInFlightError(1);
        await placeFreed(pair, pause);
      }
    },
    ended(pair) {
      const queue = waiting.get(pair);
      queue?.shift()?.();
      if (queue?.length === 0) waiting.delete(pair);
    },
  };
}
