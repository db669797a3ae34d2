/**
 * Gatehouse's one notion of time for what it times itself: record expiry and the refresh-token
 * reuse window, the client / API / account caches, key activation and removal, when sign-in
 * lockouts end, the attempt limits' clean-key memory, reset tokens, the JWT checks in front of
 * introspection. The system clock in
 * production; tests pass one they move (test/helpers/clock.ts) instead of sleeping. The
 * provider's own token timestamps (`iat`, `exp`) stay on the system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Stands still between jumps (a test's frozen clock): its timers fire on jumps only, never after real time. */
  readonly frozen?: boolean;
  /**
   * Hears the jumps of a moved clock: whatever waits on a timer armed against this clock (the
   * key ring's next status change) re-checks then; the jump is over once every returned promise
   * settled. Returns a function that stops listening. The system clock never jumps.
   */
  onJump?(listener: () => Promise<void>): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Milliseconds on a clock that never jumps (`performance.now()`): how long something took on
 * this instance, whatever the system clock does meanwhile. Not a time of day: only differences
 * of its readings mean anything. The instance's stopwatch (Wiring.stopwatch) in production.
 */
export const monotonicNow = (): number => performance.now();

/** The clock as the `() => Date` that date-based modules take. */
export function dateClock(clock: Clock): () => Date {
  return () => new Date(clock.now());
}

/** A pending timer's handle. */
export interface ClockTimer {
  cancel(): void;
}

/**
 * Runs `run` once `ms` have passed on the clock: after a real (unref'd) timer (none on a frozen
 * clock), or as soon as a moved clock jumps past the deadline (the jump starts `run` and does
 * not wait for it). Tests move the clock instead of waiting for the timer.
 */
export function clockTimer(clock: Clock, ms: number, run: () => Promise<void> | void): ClockTimer {
  const due = clock.now() + ms;
  let done = false;
  let stopListening: (() => void) | undefined;
  const timer = clock.frozen === true ? undefined : setTimeout(() => void fire(), ms);
  timer?.unref();
  function cancel(): void {
    done = true;
    clearTimeout(timer);
    stopListening?.();
  }
  async function fire(): Promise<void> {
    if (done) return;
    cancel();
    await run();
  }
  stopListening = clock.onJump?.(async () => {
    if (clock.now() >= due) void fire();
  });
  return { cancel };
}
