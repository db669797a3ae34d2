import { setTimeout as sleep } from 'node:timers/promises';
import { SignInsInFlightError } from './errors.ts';

/**
 * A try that found no free place: the threshold's worth of attempts is in flight on one of the
 * attempt's keys. `oldest`: the id of the oldest attempt in flight there — when it changes, an
 * attempt ended (or its place expired) somewhere, on whichever instance.
 */
export interface Busy {
  readonly busy: true;
  readonly oldest: string | undefined;
}

/**
 * The wait of a sign-in attempt that found no free place on one of its keys (src/accounts/login-limiter.ts,
 * docs/ACCOUNTS.md): it tries again when an attempt of this process on the same (account, IP) pair
 * ends, else polling (25 ms, doubling to 200 ms: the attempts it waits for may run on another
 * instance). It is refused only when the attempts ahead of it stop ending, not when they are slow.
 */
export interface InFlightWait {
  /**
   * Runs `tryOnce` until it answers something other than Busy, and answers that. Refused with
   * SignInsInFlightError (503, retryable) once no attempt ahead ended for `stallMs`, or after
   * `maxMs` in all. `pair`: the attempt's (account, IP) key, whose ends on this process wake it.
   */
  run<T extends object>(pair: string, tryOnce: () => Promise<T | Busy>): Promise<T>;
  /** An attempt of this process on `pair` ended: the first attempt waiting on it tries again now. */
  ended(pair: string): void;
}

export interface InFlightWaitDeps {
  /** How long a waiting attempt sees no attempt ahead of it end before it is refused. */
  readonly stallMs: number;
  /** How long an attempt waits at most, however the attempts ahead of it progress. */
  readonly maxMs: number;
  /**
   * Gatehouse's clock (epoch ms), on which both are measured: in production the system's, in tests
   * one they freeze and move, so a wait's outcome does not depend on the machine's speed.
   */
  readonly now: () => number;
  /** Each attempt that had to wait, once it has a place or is refused (metrics). */
  readonly onWaited?: ((outcome: 'admitted' | 'refused') => void) | undefined;
}

const isBusy = (outcome: object): outcome is Busy => 'busy' in outcome && outcome.busy === true;

export function inFlightWait({ stallMs, maxMs, now, onWaited }: InFlightWaitDeps): InFlightWait {
  /** Attempts of this process waiting for a place, by (account, IP) key, first come first served. */
  const waiting = new Map<string, Array<() => void>>();

  /**
   * Until an attempt of this process on the pair ends (true), or `ms` pass (one may end on another
   * instance, or on another pair of the account or IP).
   */
  async function placeFreed(pair: string, ms: number): Promise<boolean> {
    const controller = new AbortController();
    let wake!: () => void;
    const woken = new Promise<boolean>((resolve) => (wake = () => resolve(true)));
    const queue = waiting.get(pair) ?? [];
    waiting.set(pair, queue);
    queue.push(wake);
    const freed = await Promise.race([woken, sleep(ms, false, { signal: controller.signal }).catch(() => false)]);
    controller.abort();
    const at = queue.indexOf(wake);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0 && waiting.get(pair) === queue) waiting.delete(pair);
    return freed;
  }

  return {
    async run(pair, tryOnce) {
      // Taken before the first try: a wait counts from the attempt's start.
      const started = now();
      let progressed = started;
      let oldest: string | undefined;
      let waited = false;
      for (let pause = 25; ; pause = Math.min(pause * 2, 200)) {
        const outcome = await tryOnce();
        if (!isBusy(outcome)) {
          if (waited) onWaited?.('admitted');
          return outcome;
        }
        const at = now();
        if (waited && outcome.oldest !== oldest) progressed = at;
        oldest = outcome.oldest;
        if (at - progressed >= stallMs || at - started >= maxMs) {
          onWaited?.('refused');
          throw new SignInsInFlightError(1);
        }
        waited = true;
        if (await placeFreed(pair, pause)) progressed = now();
      }
    },
    ended(pair) {
      const queue = waiting.get(pair);
      queue?.shift()?.();
      if (queue?.length === 0) waiting.delete(pair);
    },
  };
}
