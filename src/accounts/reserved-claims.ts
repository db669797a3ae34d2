/**
 * Claim names an operator may not take for a custom attribute or a claim mapper: the protocol's
 * own (JWT, ID token, access token, introspection, Keycloak-shaped tokens) and the OpenID
 * standard claims Gatehouse releases itself (src/oidc/claims.ts). A mapper named after one of them
 * would shadow or overwrite what the protocol layer puts there.
 */
export const PROTOCOL_CLAIMS = [
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid',
  'at_hash', 'c_hash', 's_hash', 'cnf', 'scope', 'client_id', 'typ', 'gty', 'act', 'may_act', 'events',
  'token_type', 'active', 'username', 'realm_access', 'resource_access', 'allowed-origins', 'session_state',
  'authorization_details', 'txn', '_claim_names', '_claim_sources', 'x5t#S256', 'htm', 'htu', 'ath',
] as const;

export const STANDARD_CLAIMS = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture',
  'website', 'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number',
  'phone_number_verified', 'address', 'updated_at', 'roles', 'groups',
] as const;

const RESERVED = new Set<string>([...PROTOCOL_CLAIMS, ...STANDARD_CLAIMS]);

/** Compared case-insensitively: `Email` beside `email` would confuse every reader of the token. */
export function isReservedClaim(name: string): boolean {
  return RESERVED.has(name) || RESERVED.has(name.toLowerCase());
}
