import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { ADMIN_ROLE } from '../oidc/admin-scope.ts';
import type { Config } from '../config/load.ts';
import type { RuntimeSettingName } from '../config/schema.ts';
import type { SettingsGroup, SettingsPatch, StoredValues } from './group.ts';
import { labelName } from '../roles/label-name.ts';

/**
 * Sign-in and self-service settings (Keycloak's Realm settings → Login): what the sign-in page
 * offers and what it asks of people. Each one has an environment variable that pins it.
 */
export interface SignInSettings {
  /** People may create their own account from the sign-in page (needs SMTP). */
  readonly self_registration: boolean;
  /** Lowercased email domains self-registration accepts; empty = any. */
  readonly self_registration_domains: readonly string[];
  /** Whose unconfirmed email stops their sign-in. */
  readonly require_verified_email: 'off' | 'self-registered' | 'all';
  /** Seconds an email-verification link works. */
  readonly email_verification_ttl: number;
  /** "Forgot password?" on the sign-in page, and the reset pages (need SMTP). */
  readonly password_reset: boolean;
  /** Seconds a password-reset link works. */
  readonly password_reset_ttl: number;
  /** Seconds an operator's invitation link works. */
  readonly invitation_ttl: number;
  /** Roles every new user gets, however it is created (Keycloak's realm default roles). */
  readonly default_roles: readonly string[];
}

export type SignInSettingName = keyof SignInSettings;

/** The environment variable behind each setting (README: Configuration, runtime settings). */
export const SIGN_IN_ENV: Readonly<Record<SignInSettingName, RuntimeSettingName>> = {
  self_registration: 'GATEHOUSE_SELF_REGISTRATION',
  self_registration_domains: 'GATEHOUSE_SELF_REGISTRATION_DOMAINS',
  require_verified_email: 'GATEHOUSE_REQUIRE_VERIFIED_EMAIL',
  email_verification_ttl: 'GATEHOUSE_EMAIL_VERIFICATION_TTL',
  password_reset: 'GATEHOUSE_PASSWORD_RESET',
  password_reset_ttl: 'GATEHOUSE_PASSWORD_RESET_TTL',
  invitation_ttl: 'GATEHOUSE_INVITATION_TTL',
  default_roles: 'GATEHOUSE_DEFAULT_ROLES',
};

export const SIGN_IN_SETTING_NAMES = Object.keys(SIGN_IN_ENV) as SignInSettingName[];

/** The values the configuration gives: an environment variable's, or its default. */
export function configuredSignIn(config: Pick<Config, 'selfService' | 'passwords'>): SignInSettings {
  const { selfService, passwords } = config;
  return {
    self_registration: selfService.registration,
    self_registration_domains: [...selfService.registrationDomains],
    require_verified_email: selfService.requireVerifiedEmail,
    email_verification_ttl: selfService.verificationTtlSeconds,
    password_reset: passwords.resetEnabled,
    password_reset_ttl: passwords.resetTtlSeconds,
    invitation_ttl: selfService.invitationTtlSeconds,
    default_roles: [...selfService.defaultRoles],
  };
}

const DAY = 86_400;

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .transform((value) => value.replace(/^@/, ''))
  .pipe(
    matching(z.string().max(253), /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+$/u, 'email_domain'),
  );

const seconds = (min: number, max: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(max);

/** The value schema of each setting (what a write may store). */
export const signInValueSchemas = {
  self_registration: z.boolean(),
  self_registration_domains: z.array(domain).max(100).transform((list) => [...new Set(list)]),
  require_verified_email: z.enum(['off', 'self-registered', 'all']),
  email_verification_ttl: seconds(60, 30 * DAY),
  password_reset: z.boolean(),
  password_reset_ttl: seconds(60, DAY),
  invitation_ttl: seconds(60, 30 * DAY),
  // The names users carry (the one rule of role names, src/roles/label-name.ts); they need not exist yet.
  default_roles: z
    .array(labelName)
    .max(100)
    // Registration, identity providers and invitations create users: none of them may make an administrator.
    .refine((list) => !list.includes(ADMIN_ROLE), says('admin_default_role'))
    .transform((list) => [...new Set(list)]),
} as const;

/**
 * A change: only the settings named change; `null` returns one to its configured default.
 * Unknown names are refused (400 naming them).
 */
export const signInPatchSchema = z.strictObject({
  self_registration: signInValueSchemas.self_registration.nullable().optional(),
  self_registration_domains: signInValueSchemas.self_registration_domains.nullable().optional(),
  require_verified_email: signInValueSchemas.require_verified_email.nullable().optional(),
  email_verification_ttl: signInValueSchemas.email_verification_ttl.nullable().optional(),
  password_reset: signInValueSchemas.password_reset.nullable().optional(),
  password_reset_ttl: signInValueSchemas.password_reset_ttl.nullable().optional(),
  invitation_ttl: signInValueSchemas.invitation_ttl.nullable().optional(),
  default_roles: signInValueSchemas.default_roles.nullable().optional(),
});

export type SignInPatch = SettingsPatch<SignInSettings>;
/** What the store holds: the settings an operator changed (the rest follow the configuration). */
export type StoredSignIn = StoredValues<SignInSettings>;

/** Sign-in & self-service: /settings/sign-in. */
export const signInGroup: SettingsGroup<SignInSettings> = {
  id: 'sign-in',
  env: SIGN_IN_ENV,
  patchSchema: signInPatchSchema,
  storedShape: {
    self_registration: { type: Boolean },
    self_registration_domains: { type: [String], default: undefined },
    require_verified_email: { type: String, enum: ['off', 'self-registered', 'all'] },
    email_verification_ttl: { type: Number, min: 60, max: 30 * DAY },
    password_reset: { type: Boolean },
    password_reset_ttl: { type: Number, min: 60, max: DAY },
    invitation_ttl: { type: Number, min: 60, max: 30 * DAY },
    default_roles: { type: [String], default: undefined },
  },
};
