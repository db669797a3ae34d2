import { ACR } from '../oidc/acr.ts';

/** Methods (RFC 8176 `amr`) that count as a second factor in a session. */
export const SECOND_FACTOR_AMR: readonly string[] = ['otp', 'hwk', 'swk'];

export interface MfaPolicy {
  /** Users holding any of these roles must use a second factor (GATEHOUSE_MFA_REQUIRED_ROLES). */
  readonly requiredRoles: readonly string[];
  /** Users in any of these groups must use a second factor (GATEHOUSE_MFA_REQUIRED_GROUPS). */
  readonly requiredGroups: readonly string[];
}

export interface MfaSituation {
  /** The session's `amr` so far. */
  readonly amr: readonly string[] | undefined;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  /** The client's `require_mfa`. */
  readonly clientRequires: boolean;
  /** The request's `acr_values` (space-separated), if any. */
  readonly acrValues: string | undefined;
  /** Essential acr values of the request's `claims` parameter. */
  readonly essentialAcrs?: readonly string[];
}

/** The session already has two factors (`mfa` in its amr: password + code or passkey, or a user-verified passkey). */
export const hasSecondFactor = (amr: readonly string[] | undefined): boolean => (amr ?? []).includes('mfa');

/**
 * Why a second factor must be asked for although the user has none enrolled (then they enrol
 * right away), or undefined. A user with a factor is asked whenever the session lacks one.
 */
export function mfaRequirement(policy: MfaPolicy, situation: MfaSituation): 'role' | 'group' | 'client' | 'acr_values' | undefined {
  if (situation.roles.some((role) => policy.requiredRoles.includes(role))) return 'role';
  if (situation.groups.some((group) => policy.requiredGroups.includes(group))) return 'group';
  if (situation.clientRequires) return 'client';
  if (onlyMultiFactor((situation.acrValues ?? '').split(' '))) return 'acr_values';
  if (onlyMultiFactor(situation.essentialAcrs ?? [])) return 'acr_values';
  return undefined;
}

/**
 * Whether requested acr values can be met only with a second factor: `mfa` is among them and the
 * password level is not. The values are preferences (OIDC Core §3.1.2.1, in order; §5.5.1.1 for
 * the claims parameter's `values`): `password mfa` or `mfa password` is met by a password alone
 * for a user without a factor (one who has a factor is asked for it anyway), and the ID token
 * says `acr: password`.
 */
export function onlyMultiFactor(values: readonly string[]): boolean {
  return values.includes(ACR.multiFactor) && !values.includes(ACR.singleFactor);
}
