import { z } from 'zod';
import type { Config } from '../config/load.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import type { SettingsGroup } from './group.ts';

/**
 * Password policy (Keycloak: Authentication → Policies → Password policy): what a new password
 * must be, checked at registration, reset, change, and when an administrator sets one.
 */
export interface PasswordPolicySettings {
  /** Fewest characters (Unicode code points) a new password may have. */
  readonly password_min_length: number;
}

export const PASSWORD_POLICY_ENV: Readonly<Record<keyof PasswordPolicySettings, RuntimeSettingName>> = {
  password_min_length: 'GATEHOUSE_PASSWORD_MIN_LENGTH',
};

/** NIST SP 800-63B's floor; the ceiling is the hasher's input cap (src/accounts/password-policy.ts). */
export const PASSWORD_MIN_LENGTH_RANGE = { min: 8, max: 1024 } as const;

export const passwordPolicyPatchSchema = z.strictObject({
  password_min_length: z
    .number({ message: 'must be a whole number of characters' })
    .int({ message: 'must be a whole number of characters' })
    .min(PASSWORD_MIN_LENGTH_RANGE.min, { message: `must be at least ${PASSWORD_MIN_LENGTH_RANGE.min}` })
    .max(PASSWORD_MIN_LENGTH_RANGE.max, { message: `must be at most ${PASSWORD_MIN_LENGTH_RANGE.max}` })
    .nullable()
    .optional(),
});

export function configuredPasswordPolicy(config: Pick<Config, 'passwords'>): PasswordPolicySettings {
  return { password_min_length: config.passwords.minLength };
}

/** Password policy: /settings/password-policy. */
export const passwordPolicyGroup: SettingsGroup<PasswordPolicySettings> = {
  id: 'password-policy',
  title: 'password policy settings',
  env: PASSWORD_POLICY_ENV,
  patchSchema: passwordPolicyPatchSchema,
  storedShape: {
    password_min_length: { type: Number, min: PASSWORD_MIN_LENGTH_RANGE.min, max: PASSWORD_MIN_LENGTH_RANGE.max },
  },
};
