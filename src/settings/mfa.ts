import { z } from 'zod';
import type { Config } from '../config/load.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import type { MfaPolicy } from '../mfa/policy.ts';
import { fieldsFrom, settingsFrom, type SettingsGroup } from './group.ts';
import { labelName } from '../roles/label-name.ts';

/**
 * Who must use a second factor (Keycloak: a required action / conditional OTP by role):
 * members of these roles or groups are asked to enrol one at their next sign-in.
 */
export interface MfaSettings {
  readonly mfa_required_roles: readonly string[];
  readonly mfa_required_groups: readonly string[];
}

export const MFA_ENV: Readonly<Record<keyof MfaSettings, RuntimeSettingName>> = {
  mfa_required_roles: 'GATEHOUSE_MFA_REQUIRED_ROLES',
  mfa_required_groups: 'GATEHOUSE_MFA_REQUIRED_GROUPS',
};

// The same names users carry (the one rule of role and group names, src/roles/label-name.ts); they need not exist yet.
const names = () =>
  z
    .array(labelName)
    .max(100)
    .transform((list) => [...new Set(list)])
    .nullable()
    .optional();

export const mfaPatchSchema = z.strictObject({
  mfa_required_roles: names(),
  mfa_required_groups: names(),
});

/** Each setting's field in the configuration's mfa section and in the MFA policy. */
const MFA_FIELDS = {
  mfa_required_roles: 'requiredRoles',
  mfa_required_groups: 'requiredGroups',
} as const satisfies Record<keyof MfaSettings, keyof Config['mfa'] & keyof MfaPolicy>;

export function configuredMfa(config: Pick<Config, 'mfa'>): MfaSettings {
  return settingsFrom(MFA_FIELDS, config.mfa);
}

export function mfaPolicyOf(settings: MfaSettings): MfaPolicy {
  return fieldsFrom(MFA_FIELDS, settings);
}

/** Multi-factor requirement: /settings/mfa. */
export const mfaGroup: SettingsGroup<MfaSettings> = {
  id: 'mfa',
  env: MFA_ENV,
  patchSchema: mfaPatchSchema,
  storedShape: {
    mfa_required_roles: { type: [String], default: undefined },
    mfa_required_groups: { type: [String], default: undefined },
  },
};
