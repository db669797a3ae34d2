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

export function keycloakTokenClaims({ profile, clientId, sid }: KeycloakClaimInput): Record<string, unknown> {
  const roles = Array.isArray(profile.roles) ? profile.roles.filter((role): role is string => typeof role === 'string') : [];
  const realmRoles: string[] = [];
  const resourceAccess: Record<string, { roles: string[] }> = {};
  for (const role of roles) {
    const colon = role.indexOf(':');
    if (colon <= 0 || colon === role.length - 1) {
      realmRoles.push(role);
      continue;
    }
    const client = role.slice(0, colon);
    (resourceAccess[client] ??= { roles: [] }).roles.push(role.slice(colon + 1));
  }
  const claims: Record<string, unknown> = { typ: 'Bearer', realm_access: { roles: realmRoles }, resource_access: resourceAccess };
  if (clientId !== undefined) claims.azp = clientId;
  if (sid !== undefined) claims.sid = sid;
  for (const name of PROFILE_CLAIMS) if (profile[name] !== undefined) claims[name] = profile[name];
  if (Array.isArray(profile.groups)) claims.groups = profile.groups;
  return claims;
}
