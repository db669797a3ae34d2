import type { ExportedClient } from '../clients/repository.ts';
import { isObject, KeycloakExportError, list, type Json, type UnmappedItem } from './export-json.ts';
import { mapClients } from './map-client.ts';
import { mapClientScopes, type PlannedClaimScope } from './map-client-scopes.ts';
import { mapFederatedIdentities, mapIdentityProviders, type PlannedLink, type PlannedUpstream } from './map-identity-providers.ts';
import { groupDepth, mapRoles, MAX_GROUP_DEPTH, type RealmRoles } from './map-roles.ts';
import { mapUsers, type PlannedServiceAccount, type PlannedUser, type UserPass } from './map-users.ts';
import { mapConsents, type PlannedConsent } from './map-consents.ts';
import { mapRealmSettings, type PlannedRealmSettings, type PlannedSetting } from './map-realm-settings.ts';
import { refuseTooDeep } from './nesting.ts';
import { signInGroup } from '../settings/sign-in.ts';
import { currentUsersOf, type CurrentUser, type CurrentUsers, type MissingHolders, type RefusedUser } from './user-identity.ts';

export { KeycloakExportError, type UnmappedItem } from './export-json.ts';
export { keycloakPasswordHash, NO_USABLE_PASSWORD } from './map-password.ts';
export type { PlannedServiceAccount, PlannedUser, UserPass } from './map-users.ts';
export type { CurrentUser, CurrentUsers, MissingHolders, RefusedUser } from './user-identity.ts';
export type { PlannedLink, PlannedUpstream } from './map-identity-providers.ts';
export type { PlannedRealmSettings } from './map-realm-settings.ts';
export type { PlannedClaimScope } from './map-client-scopes.ts';

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
 * - Realm settings (password policy, brute force detection, OTP policy, login options, lifetimes)
 *   become Gatehouse's runtime settings where one exists (src/keycloak/map-realm-settings.ts).
 *
 * Each part is its own module (map-roles, map-client, map-users, map-identity-providers);
 * this one composes them and reports the realm settings that have no place in Gatehouse.
 *
 * A realm is planned in two parts, so that its users need not all be in memory at once:
 * planKeycloakRealm() maps everything but the users and returns, beside that plan, what mapping a
 * user needs of the realm (KeycloakUsersContext: roles, groups, default role, clients, identity
 * providers); planKeycloakUsers() maps one batch of users with it — a users file of
 * `kc.sh export --dir`, or a page of the realm file's own users.
 */

/** Everything of a realm but its users. */
export interface KeycloakRealmPlan {
  readonly realm: string;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly groups: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  /** Custom client scopes with User Attribute / Hardcoded claim mappers, as claim scopes (src/keycloak/map-client-scopes.ts): written before the clients that list them. */
  readonly claimScopes: readonly PlannedClaimScope[];
  readonly clients: readonly ExportedClient[];
  /** Keycloak's own clients found in the export, skipped on purpose (src/keycloak/map-client.ts BUILTIN_CLIENTS). */
  readonly builtInClients: readonly string[];
  /** Clients mapped to native apps (`application_type: native`, RFC 8252) → their redirect URIs and what each is. */
  readonly nativeClients: Readonly<Record<string, readonly string[]>>;
  /** Identity providers (identity brokering) as upstream providers (src/keycloak/map-identity-providers.ts). */
  readonly upstreamProviders: readonly PlannedUpstream[];
  /** The realm's settings as Gatehouse's runtime settings, and the lifetimes its environment sets (src/keycloak/map-realm-settings.ts). */
  readonly settings: PlannedRealmSettings;
  readonly unmapped: readonly UnmappedItem[];
}

/**
 * What mapping a user needs of the realm, as plain JSON (kept with the realm by an import, for
 * users files that come on their own): the role and group definitions (composites, group roles,
 * parents), the default role, the clients the import brings (consents to others are reported) and
 * Keycloak's identity-provider aliases → Gatehouse's (federated identities).
 */
export interface KeycloakUsersContext {
  readonly realm: string;
  readonly defaultRole: string;
  readonly roles: { readonly realm: unknown[]; readonly client: Record<string, unknown[]> };
  readonly groups: unknown[];
  readonly clients: readonly string[];
  readonly aliases: Readonly<Record<string, string>>;
  /** The claim scopes the import brings (users' consents keep them); absent in contexts kept before they were imported. */
  readonly claimScopes?: readonly string[];
}

/** One batch of users, mapped. */
export interface KeycloakUsersPlan {
  readonly users: readonly PlannedUser[];
  /** Users' consents to the imported clients (Keycloak's `clientConsents`), kept as Gatehouse consent records. */
  readonly consents: readonly PlannedConsent[];
  /** Users the admin API would refuse (a username or email it does not take): not imported, each with the reason. */
  readonly refusedUsers: readonly RefusedUser[];
  /** Users' federated identities as upstream links. */
  readonly upstreamLinks: readonly PlannedLink[];
  /** The service-account users of imported clients: their roles become the client's `service_account_roles`. */
  readonly serviceAccounts: readonly PlannedServiceAccount[];
  readonly unmapped: readonly UnmappedItem[];
}

/** A whole realm export planned at once (realm and users): planKeycloakImport(). */
export interface KeycloakImportPlan extends KeycloakRealmPlan, KeycloakUsersPlan {
  readonly unmapped: readonly UnmappedItem[];
}

/** The role and group definitions only (no descriptions, attributes or ids): what effective roles are computed from. */
function roleDefinitions(roles: unknown): KeycloakUsersContext['roles'] {
  const definition = (role: unknown) => (isObject(role) ? { name: role.name, composites: role.composites } : role);
  const all = isObject(roles) ? roles : {};
  const client: Record<string, unknown[]> = {};
  if (isObject(all.client)) for (const [clientId, clientRoles] of Object.entries(all.client)) client[clientId] = list(clientRoles).map(definition);
  return { realm: list(all.realm).map(definition), client };
}

function groupDefinitions(groups: unknown): unknown[] {
  return list(groups).map((group) => (isObject(group) ? { name: group.name, path: group.path, realmRoles: group.realmRoles, clientRoles: group.clientRoles, subGroups: groupDefinitions(group.subGroups) } : group));
}

/**
 * Everything of a realm export but its users, and the context its users are mapped with; throws
 * KeycloakExportError when the document is not a realm export.
 */
export function planKeycloakRealm(document: unknown, now: Date = new Date()): { readonly plan: KeycloakRealmPlan; readonly context: KeycloakUsersContext } {
  if (!isObject(document)) throw new KeycloakExportError('not_keycloak_export');
  if (typeof document.realm !== 'string') throw new KeycloakExportError('not_keycloak_export', 'realm');
  if (!Array.isArray(document.users ?? [])) throw new KeycloakExportError('not_keycloak_export', 'users');
  // Before any walk over them (recursive, as their definitions are kept): a hostile depth is refused, not a stack overflow.
  if (groupDepth(document.groups) > MAX_GROUP_DEPTH) throw new KeycloakExportError('keycloak_too_deep', 'groups', { max: MAX_GROUP_DEPTH });
  // Nor any other value nested past what a realm export holds (kept as it is in the context, or named in the report).
  refuseTooDeep(document);
  const realm = document.realm;
  const unmapped: UnmappedItem[] = [];
  const roles = mapRoles(document, realm, unmapped);
  const clientScopes = mapClientScopes(document, unmapped);
  const { clients, nativeClients, builtIn } = mapClients(document, now, clientScopes, unmapped);
  const { providers, aliases } = mapIdentityProviders(document, roles, unmapped);

  for (const flow of list(document.authenticationFlows)) {
    if (isObject(flow) && flow.builtIn === false) unmapped.push({ kind: 'authentication flow', name: String(flow.alias), reason: "custom flows are not imported (Gatehouse's sign-in has its own steps)" });
  }
  const components = isObject(document.components) ? document.components : {};
  for (const provider of list(components['org.keycloak.storage.UserStorageProvider'])) {
    if (isObject(provider)) unmapped.push({ kind: 'user federation', name: String(provider.name), reason: 'LDAP/Kerberos federation is not supported: users stored there are not in the export' });
  }
  const settings = mapRealmSettings(document, unmapped);

  const defaultRole = isObject(document.defaultRole) && typeof document.defaultRole.name === 'string' ? document.defaultRole.name : `default-roles-${realm.toLowerCase()}`;
  const defaults = newUserDefaults(document, defaultRole, roles, unmapped);
  return {
    plan: {
      realm,
      roles: [...roles.labels].map(([name, description]) => ({ name, description })),
      groups: [...roles.groupLabels].map((name) => ({ name, description: '' })),
      claimScopes: clientScopes.claimScopes,
      clients,
      builtInClients: builtIn,
      nativeClients,
      upstreamProviders: providers,
      // The realm's settings, with the roles its default role gives every new user.
      settings: defaults === undefined ? settings : { ...settings, settings: [...settings.settings, defaults] },
      unmapped,
    },
    context: {
      realm,
      defaultRole,
      roles: roleDefinitions(document.roles),
      groups: groupDefinitions(document.groups),
      clients: clients.map((client) => client.clientId),
      aliases: Object.fromEntries(aliases),
      claimScopes: clientScopes.claimScopes.map((scope) => scope.name),
    },
  };
}

/**
 * Keycloak gives every new user the realm's default role and default groups. The imported users
 * have what the export maps to them (mapUsers; Keycloak's own import grants no more). The default role's roles (beyond Keycloak's own: offline_access,
 * uma_authorization, the account client's) become the runtime setting default_roles, which every
 * user Gatehouse creates later gets (none beyond Keycloak's own: the setting is left alone);
 * Gatehouse has no default groups, which the report says.
 */
function newUserDefaults(document: Json, defaultRole: string, roles: RealmRoles, unmapped: UnmappedItem[]): PlannedSetting | undefined {
  const given = new Set<string>();
  roles.effective({ realm: [defaultRole], client: {} }, given);
  const groups = list(document.defaultGroups).filter((path): path is string => typeof path === 'string');
  if (groups.length > 0) unmapped.push({ kind: 'group', name: groups.join(', '), reason: "the realm's default groups: Keycloak put every new user in them; the imported users are where Keycloak had them, but users Gatehouse creates later (registration, identity providers, invitations, the admin API) join no group by default: add them to those users (console, admin API), or give the groups' roles as default roles (default_roles)" });
  const value = [...given].sort();
  // Only Keycloak's own roles (every realm's default): nothing to carry, and Gatehouse's default_roles is left as it is.
  if (value.length === 0) return undefined;
  const keycloak = `defaultRole ${defaultRole}`;
  // As the admin API would take it (names of 1-128 characters, at most 100), else reported and left as it is.
  if (signInGroup.patchSchema.safeParse({ default_roles: value }).success) return { group: signInGroup.id, setting: 'default_roles', value, keycloak };
  unmapped.push({ kind: 'realm setting', name: keycloak, reason: `not applied: Gatehouse's default_roles takes at most 100 roles of at most 128 characters each (the realm's default role gives ${value.length})` });
  return undefined;
}

/** The roles of a context (mapRoles over its definitions; what it notes of them was noted with the realm). */
export function contextRoles(context: KeycloakUsersContext): RealmRoles {
  return mapRoles({ roles: context.roles, groups: context.groups }, context.realm, []);
}

/**
 * One batch of a realm's users (`users`: Keycloak's user representations) mapped with the realm's
 * context. `current`: the Gatehouse users as they are (looked up for this batch), so users whose
 * Keycloak username is an email address keep the username an earlier import derived for them
 * (src/keycloak/user-identity.ts); returns MissingHolders when it must know more of them.
 * `roles`: contextRoles(context), computed once per import.
 */
export function planKeycloakUsers(
  users: readonly unknown[],
  context: KeycloakUsersContext,
  roles: RealmRoles,
  now: Date,
  current: CurrentUsers,
  options: { readonly pass: UserPass; readonly offset?: number; readonly where?: string } = { pass: 'all' },
): KeycloakUsersPlan | MissingHolders {
  const document = { users };
  const unmapped: UnmappedItem[] = [];
  const refusedUsers: RefusedUser[] = [];
  const accounts: PlannedServiceAccount[] = [];
  const mapped = mapUsers(document, roles, now, unmapped, refusedUsers, current, { ...options, serviceAccounts: accounts });
  if (!Array.isArray(mapped)) return mapped as MissingHolders;
  const imported = new Set(context.clients);
  const serviceAccounts = accounts.filter(({ username, clientId, roles: given }) => {
    if (imported.has(clientId)) return true;
    unmapped.push({ kind: 'service account', name: username, reason: `its client ${clientId} is not imported: its roles (${given.join(', ') || 'none'}) are not carried over` });
    return false;
  });
  const planned = new Map(mapped.map(({ user }) => [user._id, user.username]));
  const consents = mapConsents(document, planned, new Set(context.clients), new Set(context.claimScopes ?? []), unmapped);
  const upstreamLinks = mapFederatedIdentities({ users: users.filter((raw) => isObject(raw) && typeof raw.id === 'string' && planned.has(raw.id)) }, new Map(Object.entries(context.aliases)), unmapped);
  return { users: mapped, consents, refusedUsers, upstreamLinks, serviceAccounts, unmapped };
}

/**
 * Turns a whole realm export (users included) into an import plan; throws KeycloakExportError when
 * the document is not one. `current`: every user of the deployment before the import (id and
 * username; none for a plan on its own). The import itself plans the realm and then its users
 * batch by batch (src/operations/keycloak-import.ts); this is the same in one go.
 */
export function planKeycloakImport(document: unknown, now: Date = new Date(), current: readonly CurrentUser[] = []): KeycloakImportPlan {
  const { plan, context } = planKeycloakRealm(document, now);
  const users = planKeycloakUsers(list((document as Json).users), context, contextRoles(context), now, currentUsersOf(current));
  if (!('users' in users)) throw new Error('every current user was given');
  return { ...plan, ...users, unmapped: [...plan.unmapped, ...users.unmapped] };
}
