import type { Config } from '../config/load.ts';
import type { LockoutScope } from './lockout-model.ts';

/*
 * How many failed sign-ins lock what, and for how long: the login limiter's policy
 * (src/accounts/login-limiter.ts applies it), from the configuration or the runtime settings.
 */

export interface ScopePolicy {
  /** Failures within the window that lock the key. */
  readonly threshold: number;
  /** Failures older than this are forgotten. */
  readonly windowSeconds: number;
}

export interface LockoutPolicy {
  /** Failures from one IP against one account: the tight limit a person mistyping meets. */
  readonly accountIp: ScopePolicy;
  /** Failures against one account from anywhere: slows distributed guessing. */
  readonly account: ScopePolicy;
  /** Failures from one IP (IPv6: one /64) against any account: slows spraying. */
  readonly ip: ScopePolicy;
  /** First lockout; each further lockout of the same key within `levelMemorySeconds` doubles it. */
  readonly lockSeconds: number;
  readonly maxLockSeconds: number;
  readonly levelMemorySeconds: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  accountIp: { threshold: 5, windowSeconds: 3600 },
  account: { threshold: 20, windowSeconds: 3600 },
  ip: { threshold: 100, windowSeconds: 3600 },
  lockSeconds: 60,
  maxLockSeconds: 86_400,
  levelMemorySeconds: 86_400,
});

/** The limiter's policy from the lockout settings (the configuration's, or the runtime ones: src/settings/brute-force.ts). */
export function lockoutPolicy(lockout: Config['lockout']): LockoutPolicy {
  return {
    accountIp: { threshold: lockout.threshold, windowSeconds: lockout.windowSeconds },
    account: { threshold: lockout.accountThreshold, windowSeconds: lockout.windowSeconds },
    ip: { threshold: lockout.ipThreshold, windowSeconds: lockout.windowSeconds },
    lockSeconds: lockout.lockSeconds,
    maxLockSeconds: lockout.maxLockSeconds,
    levelMemorySeconds: 86_400,
  };
}

/** The rules of one scope of the three. */
export function scopePolicy(rules: LockoutPolicy, scope: LockoutScope): ScopePolicy {
  return scope === 'account_ip' ? rules.accountIp : scope === 'account' ? rules.account : rules.ip;
}
