/**
 * Keycloak-shaped access-token claims, for APIs written against Keycloak tokens (e.g. Spring
 * Security converters reading `realm_access.roles`). Roles imported from Keycloak keep their
 * shape: realm roles as they are, client roles as `<clientId>:<role>` (src/keycloak/realm-import.ts),
 * which go back under `resource_access.<clientId>.roles`.
 */
export interface KeycloakClaimInput {
  /** The user's claims as Gatehouse releases them (preferred_username, email, roles, groups, ...). */
  readonly profile: Readonly<Record<string, unknown>>;
  readonly clientId: string | undefined;
  /** The session id the ID token carries as `sid`. */
  readonly sid: string | undefined;
}

const PROFILE_CLAIMS = ['preferred_username', 'name', 'given_name', 'family_name', 'email', 'email_verified'] as const;

/** `realm_access` and `resource_access` from the user's roles. */
export function keycloakRoleClaims(profile: Readonly<Record<string, unknown>>): { realm_access: { roles: string[] }; resource_access: Record<string, { roles: string[] }> } {
  const roles = Array.isArray(profile.roles) ? profile.roles.filter((role): role is string => typeof role === 'string') : [];
  const realmRoles: string[] = [];
  // A Map, then own members: a client part named like an Object.prototype member (`toString:viewer`,
  // `__proto__:x`) found the inherited one in a plain object and failed the token with a 500.
  const resourceAccess = new Map<string, { roles: string[] }>();
  for (const role of roles) {
    const colon = role.indexOf(':');
    if (colon <= 0 || colon === role.length - 1) {
      realmRoles.push(role);
      continue;
    }
    const client = role.slice(0, colon);
    let entry = resourceAccess.get(client);
    if (entry === undefined) resourceAccess.set(client, (entry = { roles: [] }));
    entry.roles.push(role.slice(colon + 1));
  }
  return { realm_access: { roles: realmRoles }, resource_access: Object.fromEntries(resourceAccess) };
}

/** The claims of a Keycloak access token (besides the JWT's own: iss, sub, aud, exp, iat, jti, scope). */
export function keycloakTokenClaims({ profile, clientId, sid }: KeycloakClaimInput): Record<string, unknown> {
  const claims: Record<string, unknown> = { typ: 'Bearer', ...keycloakRoleClaims(profile) };
  if (clientId !== undefined) claims.azp = clientId;
  if (sid !== undefined) claims.sid = sid;
  for (const name of PROFILE_CLAIMS) if (profile[name] !== undefined) claims[name] = profile[name];
  if (Array.isArray(profile.groups)) claims.groups = profile.groups;
  return claims;
}

/** Whether a stored access token was issued with Keycloak's claims (src/oidc/jwt-records.ts lets those reach userinfo, as Keycloak's do). */
export function hasKeycloakClaims(record: { readonly extra?: unknown }): boolean {
  const extra = record.extra as Record<string, unknown> | undefined;
  return extra?.typ === 'Bearer' && typeof extra.realm_access === 'object' && extra.realm_access !== null;
}

/**
 * Claims that tokens without a user (client_credentials) of a Keycloak-claims client carry; with
 * the client's service-account roles (`service_account_roles`) as Keycloak's service-account user's.
 * `preferred_username` is that user's name as Keycloak makes it (`service-account-` + the client id,
 * lowercased as Keycloak stores usernames): apps tell a service token by it. Keycloak 26's
 * `service_account` client scope, a default scope of every client with service accounts on, adds
 * `client_id` (which every client_credentials token carries already: RFC 9068), `clientHost` and
 * `clientAddress`: both the caller's address (ClientCredentialsGrantType writes the remote host,
 * an address without a name lookup, into both), here `address` as the HTTP layer reads it (behind
 * a trusted proxy, its X-Forwarded-For).
 */
export function keycloakClientTokenClaims(clientId: string, serviceAccountRoles: readonly string[] = [], address?: string): Record<string, unknown> {
  return {
    typ: 'Bearer',
    azp: clientId,
    preferred_username: `service-account-${clientId.toLowerCase()}`,
    ...(address === undefined || address === '' ? {} : { clientHost: address, clientAddress: address }),
    ...(serviceAccountRoles.length > 0 ? keycloakRoleClaims({ roles: serviceAccountRoles }) : {}),
  };
}

/**
 * What a Keycloak-claims client's ID token adds to the scope claims: `azp` and the roles, as
 * Keycloak writes them when its role mappers add them to the ID token (which applications that
 * read roles from the ID token, such as Grafana or kubectl, are set up with).
 */
export const KEYCLOAK_ID_TOKEN_CLAIMS = ['azp', 'realm_access', 'resource_access'] as const;

export function keycloakIdTokenClaims(profile: Readonly<Record<string, unknown>>, clientId: string | undefined): Record<string, unknown> {
  return { ...(clientId === undefined ? {} : { azp: clientId }), ...keycloakRoleClaims(profile) };
}
