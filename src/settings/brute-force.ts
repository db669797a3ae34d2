import { z } from 'zod';
import { lockoutPolicy, type LockoutPolicy } from '../accounts/login-limiter-policy.ts';
import type { Config } from '../config/load.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import { fieldProblem } from '../errors/gatehouse-error.ts';
import { fieldsFrom, settingsFrom, wholeNumberChange, type SettingsGroup } from './group.ts';

/**
 * Brute-force detection (Keycloak: Realm settings → Security defenses → Brute force detection):
 * failed sign-ins (passwords and second-factor codes) that lock, and for how long.
 */
export interface BruteForceSettings {
  /** Failures from one IP against one account that lock that pair. */
  readonly lockout_threshold: number;
  /** Failures against one account from anywhere that lock the account. */
  readonly lockout_account_threshold: number;
  /** Failures from one IP (IPv6: one /64) against any account that lock the address. */
  readonly lockout_ip_threshold: number;
  /** Seconds failures are remembered (counting window). */
  readonly lockout_window: number;
  /** Seconds of the first lock; each further lock of the same key within a day doubles it. */
  readonly lockout_seconds: number;
  /** The longest lock. */
  readonly lockout_max_seconds: number;
}

export const BRUTE_FORCE_ENV: Readonly<Record<keyof BruteForceSettings, RuntimeSettingName>> = {
  lockout_threshold: 'GATEHOUSE_LOCKOUT_THRESHOLD',
  lockout_account_threshold: 'GATEHOUSE_LOCKOUT_ACCOUNT_THRESHOLD',
  lockout_ip_threshold: 'GATEHOUSE_LOCKOUT_IP_THRESHOLD',
  lockout_window: 'GATEHOUSE_LOCKOUT_WINDOW',
  lockout_seconds: 'GATEHOUSE_LOCKOUT_SECONDS',
  lockout_max_seconds: 'GATEHOUSE_LOCKOUT_MAX_SECONDS',
};

const YEAR = 365 * 86_400;

/** The bounds of each setting (the console's inputs show them too). */
export const BRUTE_FORCE_RANGES: Readonly<Record<keyof BruteForceSettings, { min: number; max: number }>> = {
  lockout_threshold: { min: 1, max: 1000 },
  lockout_account_threshold: { min: 1, max: 100_000 },
  lockout_ip_threshold: { min: 1, max: 1_000_000 },
  lockout_window: { min: 1, max: YEAR },
  lockout_seconds: { min: 1, max: YEAR },
  lockout_max_seconds: { min: 1, max: YEAR },
};

const whole = (name: keyof BruteForceSettings) => wholeNumberChange(BRUTE_FORCE_RANGES[name]);

export const bruteForcePatchSchema = z.strictObject({
  lockout_threshold: whole('lockout_threshold'),
  lockout_account_threshold: whole('lockout_account_threshold'),
  lockout_ip_threshold: whole('lockout_ip_threshold'),
  lockout_window: whole('lockout_window'),
  lockout_seconds: whole('lockout_seconds'),
  lockout_max_seconds: whole('lockout_max_seconds'),
});

/** Each setting's field in the configuration's lockout section and in the limiter's policy input. */
const BRUTE_FORCE_FIELDS = {
  lockout_threshold: 'threshold',
  lockout_account_threshold: 'accountThreshold',
  lockout_ip_threshold: 'ipThreshold',
  lockout_window: 'windowSeconds',
  lockout_seconds: 'lockSeconds',
  lockout_max_seconds: 'maxLockSeconds',
} as const satisfies Record<keyof BruteForceSettings, keyof Config['lockout']>;

export function configuredBruteForce(config: Pick<Config, 'lockout'>): BruteForceSettings {
  return settingsFrom(BRUTE_FORCE_FIELDS, config.lockout);
}

/** The limiter's policy from the settings in force (src/accounts/login-limiter.ts). */
export function lockoutPolicyOf(settings: BruteForceSettings): LockoutPolicy {
  return lockoutPolicy(fieldsFrom(BRUTE_FORCE_FIELDS, settings));
}

const bounded = (name: keyof BruteForceSettings) => ({ type: Number, min: BRUTE_FORCE_RANGES[name].min, max: BRUTE_FORCE_RANGES[name].max });

/** Brute-force detection: /settings/brute-force. */
export const bruteForceGroup: SettingsGroup<BruteForceSettings> = {
  id: 'brute-force',
  env: BRUTE_FORCE_ENV,
  patchSchema: bruteForcePatchSchema,
  storedShape: Object.fromEntries(Object.keys(BRUTE_FORCE_ENV).map((name) => [name, bounded(name as keyof BruteForceSettings)])),
  problems: (settings) =>
    settings.lockout_max_seconds < settings.lockout_seconds
      ? [fieldProblem('lockout_max_seconds', 'below_lockout_seconds', { min: settings.lockout_seconds })]
      : [],
};
