import type { ExportedClient } from '../clients/repository.ts';
import { isObject, KeycloakExportError, list, text, type UnmappedItem } from './export-json.ts';
import { mapClients } from './map-client.ts';
import { mapFederatedIdentities, mapIdentityProviders, type PlannedLink, type PlannedUpstream } from './map-identity-providers.ts';
import { mapRoles } from './map-roles.ts';
import { mapUsers, type PlannedUser } from './map-users.ts';
import { mapConsents, type PlannedConsent } from './map-consents.ts';
import type { CurrentUser, RefusedUser } from './user-identity.ts';

export { KeycloakExportError, type UnmappedItem } from './export-json.ts';
export { keycloakPasswordHash, NO_USABLE_PASSWORD } from './map-password.ts';
export type { PlannedUser } from './map-users.ts';
export type { CurrentUser, RefusedUser } from './user-identity.ts';
export type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';

/**
 * Reads a Keycloak realm export (`kc.sh export`, Keycloak 24–26) into what Gatehouse keeps:
 * roles and groups (labels), clients, and users with their password hashes as Keycloak stored
 * them. Pure: src/keycloak/apply-import.ts writes the plan. Everything that has no place in
 * Gatehouse is listed in `unmapped` with the reason, never silently dropped.
 *
 * - Realm roles keep their names; client roles become `<clientId>:<role>` (the
 *   `resource_access` claim splits them back). A user's roles are the effective ones: direct,
 *   from each group and its parents, from composites and from the realm's default role.
 * - Groups keep their full path (`/staff/editors`), as Keycloak's group-membership mapper
 *   writes it; a user is in the groups Keycloak lists for them.
 * - Users keep Keycloak's id as their `sub`, so tokens name the same subject as before. Each is
 *   checked by the admin API's rules (src/keycloak/user-identity.ts): one it would refuse is
 *   reported in `refusedUsers` and left out, the others are imported.
 * - Passwords: `argon2` becomes a PHC argon2 string; `pbkdf2-sha256`, `pbkdf2-sha512` and
 *   `pbkdf2` (SHA-1) become `$pbkdf2-<digest>$i=…$salt$hash` (src/accounts/password-verifier.ts).
 *   Both verify at sign-in and are replaced by argon2id on the first successful one.
 * - OTP credentials (time-based) become the user's authenticator app, with Keycloak's
 *   algorithm, digits and period (src/keycloak/otp-credential.ts): the same app keeps working.
 * - Identity providers become upstream providers, their mappers claim/role/group mapping, and
 *   users' federated identities upstream links (src/keycloak/map-identity-providers.ts).
 *
 * Each part is its own module (map-roles, map-client, map-users, map-identity-providers);
 * this one composes them and reports the realm settings that have no place in Gatehouse.
 */

export interface KeycloakImportPlan {
  readonly realm: string;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly groups: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly clients: readonly ExportedClient[];
  /** Keycloak's own clients found in the export, skipped on purpose (src/keycloak/map-client.ts BUILTIN_CLIENTS). */
  readonly builtInClients: readonly string[];
  /** Clients mapped to native apps (`application_type: native`, RFC 8252) → their redirect URIs and what each is. */
  readonly nativeClients: Readonly<Record<string, readonly string[]>>;
  readonly users: readonly PlannedUser[];
  /** Users' consents to the imported clients (Keycloak's `clientConsents`), kept as Gatehouse consent records. */
  readonly consents: readonly PlannedConsent[];
  /** Users the admin API would refuse (a username or email it does not take): not imported, each with the reason. */
  readonly refusedUsers: readonly RefusedUser[];
  /** Identity providers (identity brokering) as upstream providers (src/keycloak/map-identity-providers.ts). */
  readonly upstreamProviders: readonly PlannedUpstream[];
  /** Users' federated identities as upstream links. */
  readonly upstreamLinks: readonly PlannedLink[];
  readonly unmapped: readonly UnmappedItem[];
}

/**
 * Turns a realm export into an import plan; throws KeycloakExportError when the document is not
 * one. `current`: the deployment's users before the import (id and username; none for a plan on
 * its own), so users whose Keycloak username is an email address keep the username an earlier
 * import derived for them (src/keycloak/user-identity.ts).
 */
export function planKeycloakImport(document: unknown, now: Date = new Date(), current: readonly CurrentUser[] = []): KeycloakImportPlan {
  if (!isObject(document)) throw new KeycloakExportError('not_keycloak_export');
  if (typeof document.realm !== 'string') throw new KeycloakExportError('not_keycloak_export', 'realm');
  if (!Array.isArray(document.users ?? [])) throw new KeycloakExportError('not_keycloak_export', 'users');
  const realm = document.realm;
  const unmapped: UnmappedItem[] = [];
  const roles = mapRoles(document, realm, unmapped);
  const { clients, nativeClients, builtIn } = mapClients(document, now, unmapped);
  const refusedUsers: RefusedUser[] = [];
  const users = mapUsers(document, realm, roles, now, unmapped, refusedUsers, current);
  const consents = mapConsents(document, new Map(users.map(({ user }) => [user._id, user.username])), new Set(clients.map((client) => client.clientId)), unmapped);
  const { providers, aliases } = mapIdentityProviders(document, roles, unmapped);
  const upstreamLinks = mapFederatedIdentities(document, aliases, unmapped);

  for (const flow of list(document.authenticationFlows)) {
    if (isObject(flow) && flow.builtIn === false) unmapped.push({ kind: 'authentication flow', name: String(flow.alias), reason: "custom flows are not imported (Gatehouse's sign-in has its own steps)" });
  }
  const components = isObject(document.components) ? document.components : {};
  for (const provider of list(components['org.keycloak.storage.UserStorageProvider'])) {
    if (isObject(provider)) unmapped.push({ kind: 'user federation', name: String(provider.name), reason: 'LDAP/Kerberos federation is not supported: users stored there are not in the export' });
  }
  for (const scope of list(document.clientScopes)) {
    if (!isObject(scope) || typeof scope.name !== 'string') continue;
    const builtin = ['profile', 'email', 'address', 'phone', 'offline_access', 'roles', 'web-origins', 'acr', 'basic', 'microprofile-jwt', 'role_list', 'saml_organization', 'organization', 'service_account'];
    if (!builtin.includes(scope.name)) unmapped.push({ kind: 'client scope', name: scope.name, reason: 'custom client scopes are not imported (define the scopes on an API)' });
  }
  if (text(document.passwordPolicy) !== undefined) unmapped.push({ kind: 'realm setting', name: 'passwordPolicy', reason: `${String(document.passwordPolicy)}: set the minimum length with password_min_length (gatehouse settings set, or GATEHOUSE_PASSWORD_MIN_LENGTH); hashing uses the argon2 settings` });
  if (document.bruteForceProtected === true) unmapped.push({ kind: 'realm setting', name: 'bruteForceProtected', reason: 'Gatehouse always limits sign-in attempts (GATEHOUSE_LOCKOUT_*)' });

  return {
    realm,
    roles: [...roles.labels].map(([name, description]) => ({ name, description })),
    groups: [...roles.groups.keys()].map((name) => ({ name, description: '' })),
    clients,
    builtInClients: builtIn,
    nativeClients,
    users,
    consents,
    refusedUsers,
    upstreamProviders: providers,
    upstreamLinks,
    unmapped,
  };
}
