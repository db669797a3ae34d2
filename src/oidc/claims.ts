/**
 * Scopes and the claims they release. Profile claims also go into the ID token
 * (conformIdTokenClaims is off), unless a client asks for a minimal ID token.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: [
    'name',
    'given_name',
    'family_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
  roles: ['roles'],
  groups: ['groups'],
} as const;

export const OIDC_SCOPES: readonly string[] = [...Object.keys(SCOPE_CLAIMS), 'offline_access'];

export function isOidcScope(scope: string): boolean {
  return OIDC_SCOPES.includes(scope);
}

/** The OpenID scopes of a provider with claim scopes (src/claims/): the standard ones and the operator's. */
export function openIdScopeTest(mapping: { isClaimScope(scope: string): boolean }): (scope: string) => boolean {
  return (scope) => isOidcScope(scope) || mapping.isClaimScope(scope);
}
