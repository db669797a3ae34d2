import type { Config } from './load.ts';
import { Secret } from './secret.ts';

/**
 * The configuration as operators read it (admin API, console): every value the server runs
 * with, secrets as `[secret]`. Secret settings are Secret objects from loading on, so a new
 * secret setting is hidden here without being listed.
 */
export function effectiveSettings(config: Config): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config, (_key, value: unknown) => (value instanceof Secret ? '[secret]' : value))) as Record<string, unknown>;
}

/**
 * The effective settings with the runtime settings in force (src/settings/) in place of their
 * startup values, which an operator may have changed since: one entry per group
 * (`signIn`, `passwordPolicy`, `bruteForce`, `mfa`, `otp`).
 */
export function effectiveWithRuntime(config: Config, runtime: { signIn: object; passwordPolicy: object; bruteForce: object; mfa: object; otp: object }): Record<string, unknown> {
  const { selfService: _startup, passwords, lockout: _lockout, mfa: _mfa, otp: _otp, ...rest } = effectiveSettings(config) as { selfService: unknown; lockout: unknown; mfa: unknown; otp: unknown; passwords: Record<string, unknown> };
  const { resetEnabled: _enabled, resetTtlSeconds: _ttl, policy: _policy, ...hashing } = passwords;
  return { ...rest, passwords: hashing, signIn: { ...runtime.signIn }, passwordPolicy: { ...runtime.passwordPolicy }, bruteForce: { ...runtime.bruteForce }, mfa: { ...runtime.mfa }, otp: { ...runtime.otp } };
}
