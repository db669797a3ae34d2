import { z } from 'zod';
import type { Config } from '../config/load.ts';
import { PASSWORD_POLICY_BOUNDS, type PasswordPolicy } from '../config/password-policy.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import { fieldProblem, type ErrorDetail } from '../errors/gatehouse-error.ts';
import { fieldsFrom, settingsFrom, wholeNumberChange, type SettingsGroup } from './group.ts';

/**
 * Password policy (Keycloak: Authentication → Policies → Password policy): what a new password
 * must be, checked at registration, reset, change, and when an administrator sets one.
 * Passwords already set (and hashes imported from Keycloak) keep working.
 */
export interface PasswordPolicySettings {
  /** Fewest characters (Unicode code points) a new password may have. */
  readonly password_min_length: number;
  /** Most characters (Keycloak: maxLength). */
  readonly password_max_length: number;
  /** Fewest digits, lowercase letters, uppercase letters, special characters (Keycloak: digits, lowerCase, upperCase, specialChars); 0 = any. */
  readonly password_digits: number;
  readonly password_lowercase: number;
  readonly password_uppercase: number;
  readonly password_special: number;
  /** Not the username / not the email address, ignoring case (Keycloak: notUsername, notEmail). */
  readonly password_not_username: boolean;
  readonly password_not_email: boolean;
  /** Not one of the last N passwords, the current one included (Keycloak: passwordHistory); 0 = off. */
  readonly password_history: number;
}

type NumberSetting = 'password_min_length' | 'password_max_length' | 'password_digits' | 'password_lowercase' | 'password_uppercase' | 'password_special' | 'password_history';

export const PASSWORD_POLICY_ENV: Readonly<Record<keyof PasswordPolicySettings, RuntimeSettingName>> = {
  password_min_length: 'GATEHOUSE_PASSWORD_MIN_LENGTH',
  password_max_length: 'GATEHOUSE_PASSWORD_MAX_LENGTH',
  password_digits: 'GATEHOUSE_PASSWORD_DIGITS',
  password_lowercase: 'GATEHOUSE_PASSWORD_LOWERCASE',
  password_uppercase: 'GATEHOUSE_PASSWORD_UPPERCASE',
  password_special: 'GATEHOUSE_PASSWORD_SPECIAL',
  password_not_username: 'GATEHOUSE_PASSWORD_NOT_USERNAME',
  password_not_email: 'GATEHOUSE_PASSWORD_NOT_EMAIL',
  password_history: 'GATEHOUSE_PASSWORD_HISTORY',
};

/** Each setting's field in the configured policy and in the policy src/accounts checks. */
const PASSWORD_POLICY_FIELDS = {
  password_min_length: 'minLength',
  password_max_length: 'maxLength',
  password_digits: 'digits',
  password_lowercase: 'lowercase',
  password_uppercase: 'uppercase',
  password_special: 'special',
  password_not_username: 'notUsername',
  password_not_email: 'notEmail',
  password_history: 'history',
} as const satisfies Record<keyof PasswordPolicySettings, keyof PasswordPolicy>;

/** A number's bounds: its field's in src/config/password-policy.ts (the configuration and the console's inputs use them too). */
const rangeOf = (name: NumberSetting) => PASSWORD_POLICY_BOUNDS[PASSWORD_POLICY_FIELDS[name]];

const whole = (name: NumberSetting) => wholeNumberChange(rangeOf(name));
const flag = z.boolean().nullable().optional();

export const passwordPolicyPatchSchema = z.strictObject({
  password_min_length: whole('password_min_length'),
  password_max_length: whole('password_max_length'),
  password_digits: whole('password_digits'),
  password_lowercase: whole('password_lowercase'),
  password_uppercase: whole('password_uppercase'),
  password_special: whole('password_special'),
  password_not_username: flag,
  password_not_email: flag,
  password_history: whole('password_history'),
});

export function configuredPasswordPolicy(config: Pick<Config, 'passwords'>): PasswordPolicySettings {
  return settingsFrom(PASSWORD_POLICY_FIELDS, config.passwords.policy);
}

/** The policy src/accounts checks, from the settings in force. */
export function passwordPolicyOf(settings: PasswordPolicySettings): PasswordPolicy {
  return fieldsFrom(PASSWORD_POLICY_FIELDS, settings);
}

/** Rules that no password could meet together (the configuration and a change are both checked). */
export function passwordPolicyProblems(settings: PasswordPolicySettings): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (settings.password_max_length < settings.password_min_length) {
    problems.push(fieldProblem('password_max_length', 'below_min_length', { min: settings.password_min_length }));
  }
  const classes = settings.password_digits + settings.password_lowercase + settings.password_uppercase + settings.password_special;
  if (classes > settings.password_max_length) {
    problems.push(fieldProblem('password_max_length', 'below_required_classes', { min: classes }));
  }
  return problems;
}

const bounded = (name: NumberSetting) => ({ type: Number, ...rangeOf(name) });

/** Password policy: /settings/password-policy. */
export const passwordPolicyGroup: SettingsGroup<PasswordPolicySettings> = {
  id: 'password-policy',
  env: PASSWORD_POLICY_ENV,
  patchSchema: passwordPolicyPatchSchema,
  storedShape: {
    password_min_length: bounded('password_min_length'),
    password_max_length: bounded('password_max_length'),
    password_digits: bounded('password_digits'),
    password_lowercase: bounded('password_lowercase'),
    password_uppercase: bounded('password_uppercase'),
    password_special: bounded('password_special'),
    password_not_username: { type: Boolean },
    password_not_email: { type: Boolean },
    password_history: bounded('password_history'),
  },
  problems: passwordPolicyProblems,
};
