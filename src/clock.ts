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
  /**
   * Hears the jumps of a moved clock: whatever waits on a timer armed against this clock (the
   * key ring's next status change) re-checks then; the jump is over once every returned promise
   * settled. Returns a function that stops listening. The system clock never jumps.
   */
  onJump?(listener: () => Promise<void>): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The clock as the `() => Date` that date-based modules take. */
export function dateClock(clock: Clock): () => Date {
  return () => new Date(clock.now());
}
