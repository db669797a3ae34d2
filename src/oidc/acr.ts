import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * Authentication context class references (OpenID Connect Core §2, `acr`): how strongly the
 * user was authenticated. Every ID token carries one. A sign-in with a password alone is
 * `password`; the sign-in engine reports stronger levels (multi-factor) in its result, and
 * they are added here as they become possible. Discovery lists exactly these values.
 */
export const ACR_PASSWORD = 'password';

/** Two factors: a password and a one-time code (or passkey), or a user-verified passkey. */
export const ACR_MFA = 'mfa';

/** The levels by what they mean, for the sign-in steps (src/interactions/steps). */
export const ACR = { singleFactor: ACR_PASSWORD, multiFactor: ACR_MFA } as const;

export const ACR_VALUES: readonly string[] = [ACR_PASSWORD, ACR_MFA];

/** What a finished sign-in hands to the provider's `login` result. */
export interface SignIn {
  readonly accountId: string;
  readonly remember: boolean;
  /** Set by the sign-in engine when it knows better than the default (e.g. after a second factor). */
  readonly acr?: string | undefined;
  readonly amr?: readonly string[] | undefined;
}

/** The `login` part of an interaction result: the sign-in's own acr/amr, else the password level. */
export function loginResult(signIn: SignIn): { accountId: string; remember: boolean; acr: string; amr?: string[] } {
  return {
    accountId: signIn.accountId,
    remember: signIn.remember,
    acr: signIn.acr ?? ACR_PASSWORD,
    ...(signIn.amr === undefined ? {} : { amr: [...signIn.amr] }),
  };
}

interface AcrRequest {
  readonly essential?: unknown;
  readonly value?: unknown;
  readonly values?: unknown;
}

/**
 * The `claims` parameter may ask for an acr as essential (Core §5.5.1.1). When none of the
 * requested values is one Gatehouse can ever reach, signing in again cannot help (the library
 * would prompt for login again and again): the request fails with
 * unmet_authentication_requirements, back at the client. Values Gatehouse supports but the
 * session has not reached yet lead to a new sign-in, as the library's login prompt decides.
 */
export function assertReachableAcr(_ctx: KoaContextWithOIDC, claims: { id_token?: Record<string, unknown> }): void {
  const request = claims.id_token?.acr as AcrRequest | null | undefined;
  if (request === null || typeof request !== 'object' || request.essential !== true) return;
  const wanted = Array.isArray(request.values) ? request.values : request.value !== undefined ? [request.value] : [];
  if (wanted.length === 0) return;
  if (!wanted.some((value) => typeof value === 'string' && ACR_VALUES.includes(value))) {
    throw new errors.UnmetAuthenticationRequirements(`none of the essential acr values can be satisfied (supported: ${ACR_VALUES.join(', ')})`);
  }
}
