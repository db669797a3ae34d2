import type { LockoutScope } from './lockout-model.ts';

/*
 * What the login limiter offers and answers (src/accounts/login-limiter.ts makes one): the sign-in
 * paths, second factors and the lockout operations depend on these, not on its stores.
 */

export type LockState =
  /** `pairClean`: the (account, IP) pair had no failures and no lockout level when checked. */
  | { readonly locked: false; readonly pairClean?: boolean }
  | { readonly locked: true; readonly scope: LockoutScope; readonly retryAfterSeconds: number };

/**
 * A sign-in attempt: refused (a lock is in force, or a key's failures reach its threshold), or
 * let through with one attempt counted *in flight* on each of its keys — together with the
 * check, so guesses sent at once cannot all pass the check before the first is counted, and
 * apart from the failures, so correct passwords sent at once are never remembered as failures.
 * Pass it to recordFailure() (in flight → failure), recordSuccess() or release() (taken back).
 */
export type Attempt =
  /** `id`: the attempt's own, in its keys' lists of attempts in flight. */
  | { readonly locked: false; readonly pairClean: boolean; readonly inFlight: true; readonly id: string }
  | Extract<LockState, { locked: true }>;

export interface Lockout {
  readonly scope: LockoutScope;
  readonly subject: string | null;
  readonly ip: string | null;
  readonly level: number;
  readonly lockedAt: Date;
  readonly lockedUntil: Date;
}

export interface LoginLimiter {
  readonly backend: 'redis' | 'mongo';
  /** Whether any of the three keys is locked now. Counts nothing. */
  check(subject: string, ip: string): Promise<LockState>;
  /**
   * Checks the three keys and, unless refused, counts the attempt in flight on each in the same
   * atomic step: an attempt passes while each key's failures plus attempts in flight stay below
   * its threshold, so of any number of guesses at once exactly as many as the thresholds leave
   * are tried. One that finds no free place waits for attempts in flight to end (a burst of
   * correct passwords goes through a few at a time); once none ahead of it ended for
   * `inFlightWaitMs` it is refused with SignInsInFlightError (503, retryable; nothing counted,
   * nothing locked).
   */
  attempt(subject: string, ip: string): Promise<Attempt>;
  /**
   * Counts one failure on all three keys (given the attempt that let it through, that attempt
   * stops being in flight in the same step); locks those that reach their threshold.
   */
  recordFailure(subject: string, ip: string, attempt?: Attempt): Promise<LockState>;
  /**
   * Clears the (account, IP) counter and its lockout level and ends the attempt in flight
   * on the three keys; nothing to do (no round trip) when `checked`, this sign-in's own check
   * (not an attempt), found the pair clean.
   */
  recordSuccess(subject: string, ip: string, checked?: LockState | Attempt): Promise<void>;
  /** Ends an attempt that ended with neither failure nor success (an error: the password was never checked). */
  release(subject: string, ip: string, attempt: Attempt): Promise<void>;
  /** Lifts every lockout of the subject (its account lock and all its (account, IP) locks). */
  unlock(subject: string): Promise<number>;
  /** Lifts the lockout of an IP (or IPv6 /64). */
  unlockIp(ip: string): Promise<number>;
  /**
   * Lockouts in force, newest first; `limit` of them at most when given (anyone who fails
   * sign-ins from many addresses makes them: what operators are shown is always bounded).
   */
  listLockouts(limit?: number): Promise<Lockout[]>;
  /** How many lockouts are in force. */
  countLockouts(): Promise<number>;
  /** Stops the expiry sweeper, if one runs. */
  close(): void;
}
