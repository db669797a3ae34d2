import { InvalidRequestError } from '../errors/gatehouse-error.ts';
import { formatPbkdf2Hash } from '../accounts/password-verifier.ts';
import { profileAttributesInput, type ProfileAttributes } from '../accounts/profile-attributes.ts';
import { noEmailKey, type StoredUser } from '../accounts/user-model.ts';
import { emailKey, usernameKey } from '../accounts/normalize.ts';
import type { ExportedClient } from '../clients/repository.ts';
import type { ImportedTotp } from '../mfa/factors.ts';
import { keycloakTotp } from './otp-credential.ts';

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
 * - Users keep Keycloak's id as their `sub`, so tokens name the same subject as before.
 * - Passwords: `argon2` becomes a PHC argon2 string; `pbkdf2-sha256`, `pbkdf2-sha512` and
 *   `pbkdf2` (SHA-1) become `$pbkdf2-<digest>$i=…$salt$hash` (src/accounts/password-verifier.ts).
 *   Both verify at sign-in and are replaced by argon2id on the first successful one.
 * - OTP credentials (time-based) become the user's authenticator app, with Keycloak's
 *   algorithm, digits and period (src/keycloak/otp-credential.ts): the same app keeps working.
 */

export interface UnmappedItem {
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

export interface PlannedUser {
  readonly user: StoredUser;
  /** The Keycloak algorithm of the kept password, or undefined when the user has none usable. */
  readonly passwordAlgorithm: string | undefined;
  /** When Keycloak set the password (ms); a re-import replaces a Gatehouse password only when this is newer. */
  readonly passwordSetAt: Date;
  /** The user's authenticator app (Keycloak OTP credential), taken over as their TOTP factor. */
  readonly totp: ImportedTotp | undefined;
}

export interface KeycloakImportPlan {
  readonly realm: string;
  readonly roles: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly groups: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly clients: readonly ExportedClient[];
  readonly users: readonly PlannedUser[];
  readonly unmapped: readonly UnmappedItem[];
}

/** Stored for users whose Keycloak password cannot be kept: verifies nothing (the user resets it). */
export const NO_USABLE_PASSWORD = '!keycloak-import:no-usable-password';

const BUILTIN_CLIENTS = new Set(['account', 'account-console', 'admin-cli', 'broker', 'realm-management', 'security-admin-console']);
const BUILTIN_REALM_ROLES = new Set(['offline_access', 'uma_authorization']);
const STRING_ATTRIBUTES = new Set(['middle_name', 'nickname', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number']);
const GATEHOUSE_SCOPES = new Set(['profile', 'email', 'address', 'phone', 'offline_access', 'roles']);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const strings = (value: unknown): string[] => list(value).filter((item): item is string => typeof item === 'string');

export class KeycloakExportError extends InvalidRequestError {
  constructor(message: string) {
    super(message, [{ path: '', message }]);
  }
}

interface RoleRef {
  readonly realm: string[];
  readonly client: Record<string, string[]>;
}

function roleRef(realmRoles: unknown, clientRoles: unknown): RoleRef {
  const client: Record<string, string[]> = {};
  if (isObject(clientRoles)) for (const [id, roles] of Object.entries(clientRoles)) client[id] = strings(roles);
  return { realm: strings(realmRoles), client };
}

function jsonField(value: unknown): Json {
  if (isObject(value)) return value;
  if (typeof value !== 'string') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const first = (value: unknown): string | undefined => (Array.isArray(value) ? text(value[0]) : text(value));
const unpadded = (base64: string) => base64.replace(/=+$/, '');

/** A Keycloak password credential as a hash string Gatehouse verifies; undefined when the algorithm has no verifier. */
export function keycloakPasswordHash(credential: Json): { hash: string; algorithm: string } | undefined {
  const secret = jsonField(credential.secretData);
  const data = jsonField(credential.credentialData);
  const algorithm = text(data.algorithm) ?? 'pbkdf2-sha256';
  const value = text(secret.value);
  const salt = text(secret.salt);
  const iterations = Number(data.hashIterations);
  if (value === undefined || salt === undefined) return undefined;
  if (algorithm === 'argon2') {
    const extra = isObject(data.additionalParameters) ? data.additionalParameters : {};
    const type = first(extra.type) ?? 'id';
    const version = first(extra.version) === '1.0' ? 16 : 19;
    const memory = Number(first(extra.memory) ?? 7168);
    const parallelism = Number(first(extra.parallelism) ?? 1);
    if (!['id', 'i', 'd'].includes(type) || !Number.isInteger(iterations) || !Number.isInteger(memory) || !Number.isInteger(parallelism)) return undefined;
    return { algorithm, hash: `$argon2${type}$v=${version}$m=${memory},t=${iterations},p=${parallelism}$${unpadded(salt)}$${unpadded(value)}` };
  }
  const digest = ({ 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512', pbkdf2: 'sha1' } as const)[algorithm as 'pbkdf2'];
  if (digest === undefined || !Number.isInteger(iterations) || iterations < 1) return undefined;
  return { algorithm, hash: formatPbkdf2Hash({ digest, iterations, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(value, 'base64') }) };
}

function clientMetadata(client: Json, unmapped: UnmappedItem[]): { metadata: Json; firstParty: boolean; webOrigins: string[]; secret: string | null } | undefined {
  const clientId = String(client.clientId);
  const note = (reason: string) => unmapped.push({ kind: 'client', name: clientId, reason });
  const attributes = isObject(client.attributes) ? client.attributes : {};
  const rootUrl = text(client.rootUrl);
  const absolute = (uri: string): string | undefined => {
    if (URL.canParse(uri)) return uri;
    if (rootUrl !== undefined && uri.startsWith('/') && URL.canParse(uri, rootUrl)) return new URL(uri, rootUrl).href;
    return undefined;
  };
  const exactUris = (uris: string[], what: string): string[] => {
    const kept: string[] = [];
    for (const uri of uris) {
      const resolved = absolute(uri);
      if (uri.includes('*')) note(`${what} ${uri}: wildcards are not supported (Gatehouse matches redirect URIs exactly); register each URI`);
      else if (resolved === undefined) note(`${what} ${uri}: not an absolute URI and the client has no root URL`);
      else kept.push(resolved);
    }
    return kept;
  };

  const grantTypes: string[] = [];
  if (client.standardFlowEnabled === true) grantTypes.push('authorization_code', 'refresh_token');
  if (client.serviceAccountsEnabled === true) grantTypes.push('client_credentials');
  if (attributes['oauth2.device.authorization.grant.enabled'] === 'true') grantTypes.push('urn:ietf:params:oauth:grant-type:device_code');
  if (client.directAccessGrantsEnabled === true) note('direct access grants (password grant) are not supported; the client keeps its other flows');
  if (client.implicitFlowEnabled === true) note('the implicit flow is not supported (authorization code with PKCE replaces it)');
  if (client.bearerOnly === true || grantTypes.length === 0) {
    note('no flow Gatehouse serves (bearer-only or no standard flow / service account): not imported as a client; its client roles are kept as <client>:<role>');
    return undefined;
  }

  const redirectUris = exactUris(strings(client.redirectUris), 'redirect URI');
  const logoutAttribute = text(attributes['post.logout.redirect.uris']);
  const logoutUris =
    logoutAttribute === undefined ? [] : logoutAttribute === '+' ? redirectUris : exactUris(logoutAttribute.split('##').filter((uri) => uri !== '' && uri !== '+'), 'post-logout redirect URI');
  const origins = new Set<string>();
  for (const origin of strings(client.webOrigins)) {
    if (origin === '+') for (const uri of redirectUris) origins.add(new URL(uri).origin);
    else if (origin === '*') note('web origin *: any origin is not supported; list the origins');
    else if (URL.canParse(origin) && new URL(origin).origin === origin.replace(/\/$/, '')) origins.add(new URL(origin).origin);
    else note(`web origin ${origin}: not an origin`);
  }

  const publicClient = client.publicClient === true;
  let authMethod = 'none';
  let secret: string | null = null;
  if (!publicClient) {
    const authenticator = text(client.clientAuthenticatorType) ?? 'client-secret';
    if (authenticator === 'client-secret') authMethod = 'client_secret_basic';
    else if (authenticator === 'client-secret-jwt') authMethod = 'client_secret_jwt';
    else {
      note(`client authenticator ${authenticator} is not imported (use private_key_jwt with the client's JWKS, or a secret)`);
      return undefined;
    }
    secret = text(client.secret) ?? null;
    if (secret === null) {
      note('confidential client without a secret in the export: not imported');
      return undefined;
    }
    if (authenticator === 'client-secret') note('client secret: Keycloak accepts it by HTTP Basic and in the form; Gatehouse takes HTTP Basic (client_secret_basic)');
  }
  const scopes = ['openid', ...[...strings(client.defaultClientScopes), ...strings(client.optionalClientScopes)].filter((scope) => GATEHOUSE_SCOPES.has(scope))];
  const metadata: Json = {
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
    scope: [...new Set(scopes)].join(' '),
    // The app was written against Keycloak's tokens: its ID and access tokens keep their shape.
    token_claims: 'keycloak',
  };
  if (logoutUris.length > 0) metadata.post_logout_redirect_uris = logoutUris;
  if (attributes['pkce.code.challenge.method'] === 'S256' && !publicClient) metadata.require_pkce = true;
  if (text(client.baseUrl) !== undefined && absolute(String(client.baseUrl)) !== undefined) metadata.client_uri = absolute(String(client.baseUrl));
  for (const mapper of list(client.protocolMappers)) {
    if (isObject(mapper)) note(`protocol mapper ${String(mapper.name)} (${String(mapper.protocolMapper)}): not mapped (Gatehouse's claims come from scopes and the API's token claims)`);
  }
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    note('no usable redirect URI: not imported (add exact redirect URIs and import again)');
    return undefined;
  }
  return { metadata, firstParty: client.consentRequired !== true, webOrigins: [...origins], secret };
}

interface GroupInfo {
  readonly path: string;
  readonly roles: RoleRef;
  readonly parent: string | undefined;
}

function walkGroups(groups: unknown, parent: string | undefined, into: Map<string, GroupInfo>): void {
  for (const group of list(groups)) {
    if (!isObject(group)) continue;
    const path = text(group.path) ?? `${parent ?? ''}/${String(group.name)}`;
    into.set(path, { path, roles: roleRef(group.realmRoles, group.clientRoles), parent });
    walkGroups(group.subGroups, path, into);
  }
}

/** Turns a realm export into an import plan; throws KeycloakExportError when the document is not one. */
export function planKeycloakImport(document: unknown, now: Date = new Date()): KeycloakImportPlan {
  if (!isObject(document) || typeof document.realm !== 'string' || !Array.isArray(document.users ?? [])) {
    throw new KeycloakExportError('not a Keycloak realm export (expected a JSON object with "realm", as written by kc.sh export)');
  }
  const realm = document.realm;
  const unmapped: UnmappedItem[] = [];
  const builtinRealmRoles = new Set([...BUILTIN_REALM_ROLES, `default-roles-${realm.toLowerCase()}`]);
  const roles = isObject(document.roles) ? document.roles : {};

  // Roles, with composites to expand.
  const composites = new Map<string, RoleRef>();
  const roleLabels = new Map<string, string>();
  for (const role of list(roles.realm)) {
    if (!isObject(role) || typeof role.name !== 'string') continue;
    if (isObject(role.composites)) composites.set(role.name, roleRef(role.composites.realm, role.composites.client));
    if (builtinRealmRoles.has(role.name)) continue;
    roleLabels.set(role.name, text(role.description) ?? '');
    if (role.composite === true) unmapped.push({ kind: 'role', name: role.name, reason: 'composite role: its members get the roles it contains (flattened at import; later changes to the composite do not follow)' });
  }
  const clientRoleComposites = new Map<string, RoleRef>();
  if (isObject(roles.client)) {
    for (const [clientId, clientRoles] of Object.entries(roles.client)) {
      for (const role of list(clientRoles)) {
        if (!isObject(role) || typeof role.name !== 'string') continue;
        if (isObject(role.composites)) clientRoleComposites.set(`${clientId}:${role.name}`, roleRef(role.composites.realm, role.composites.client));
        if (BUILTIN_CLIENTS.has(clientId)) continue;
        roleLabels.set(`${clientId}:${role.name}`, text(role.description) ?? '');
      }
    }
  }
  for (const builtin of BUILTIN_CLIENTS) unmapped.push({ kind: 'client', name: builtin, reason: "Keycloak's own client (account console, admin console, brokering): Gatehouse has its own equivalents or none" });

  const effective = (ref: RoleRef, into: Set<string>, seen = new Set<string>()): void => {
    for (const name of ref.realm) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (!builtinRealmRoles.has(name) && roleLabels.has(name)) into.add(name);
      const inner = composites.get(name);
      if (inner !== undefined) effective(inner, into, seen);
    }
    for (const [clientId, names] of Object.entries(ref.client)) {
      for (const name of names) {
        const label = `${clientId}:${name}`;
        if (seen.has(label)) continue;
        seen.add(label);
        if (roleLabels.has(label)) into.add(label);
        const inner = clientRoleComposites.get(label);
        if (inner !== undefined) effective(inner, into, seen);
      }
    }
  };

  // Groups.
  const groups = new Map<string, GroupInfo>();
  walkGroups(document.groups, undefined, groups);
  for (const group of list(document.groups)) {
    if (isObject(group) && isObject(group.attributes) && Object.keys(group.attributes).length > 0) {
      unmapped.push({ kind: 'group', name: String(group.path ?? group.name), reason: `attributes ${Object.keys(group.attributes).join(', ')}: groups carry no attributes in Gatehouse` });
    }
  }

  // Clients.
  const clients: ExportedClient[] = [];
  for (const client of list(document.clients)) {
    if (!isObject(client) || typeof client.clientId !== 'string' || BUILTIN_CLIENTS.has(client.clientId)) continue;
    if (client.enabled === false) {
      unmapped.push({ kind: 'client', name: client.clientId, reason: 'disabled in Keycloak: not imported' });
      continue;
    }
    const mapped = clientMetadata(client, unmapped);
    if (mapped === undefined) continue;
    const at = now.toISOString();
    clients.push({
      clientId: client.clientId,
      displayName: text(client.name)?.startsWith('${') === false ? String(client.name) : client.clientId,
      firstParty: mapped.firstParty,
      allowedApis: [],
      webOrigins: mapped.webOrigins,
      admin: false,
      metadata: mapped.metadata,
      secret: mapped.secret,
      createdAt: at,
      updatedAt: at,
    });
  }

  // Users.
  const defaultRole = isObject(document.defaultRole) && typeof document.defaultRole.name === 'string' ? document.defaultRole.name : `default-roles-${realm.toLowerCase()}`;
  const users: PlannedUser[] = [];
  for (const raw of list(document.users)) {
    if (!isObject(raw) || typeof raw.username !== 'string' || typeof raw.id !== 'string') continue;
    const username = raw.username;
    const note = (reason: string) => unmapped.push({ kind: 'user', name: username, reason });
    if (text(raw.serviceAccountClientId) !== undefined) {
      unmapped.push({ kind: 'service account', name: username, reason: `the service account of ${String(raw.serviceAccountClientId)}: client_credentials tokens carry the client, not a user (its roles are not carried over)` });
      continue;
    }
    const userRoles = new Set<string>();
    effective({ realm: [defaultRole], client: {} }, userRoles);
    effective(roleRef(raw.realmRoles, raw.clientRoles), userRoles);
    const memberOf = strings(raw.groups);
    for (const path of memberOf) {
      let group = groups.get(path);
      if (group === undefined) note(`group ${path}: not in the export's groups`);
      while (group !== undefined) {
        effective(group.roles, userRoles);
        group = group.parent === undefined ? undefined : groups.get(group.parent);
      }
    }
    let passwordHash = NO_USABLE_PASSWORD;
    let passwordAlgorithm: string | undefined;
    let passwordSetAt = new Date(typeof raw.createdTimestamp === 'number' ? raw.createdTimestamp : now.getTime());
    let totp: ImportedTotp | undefined;
    for (const credential of list(raw.credentials)) {
      if (!isObject(credential)) continue;
      if (credential.type === 'password' && passwordAlgorithm === undefined) {
        const kept = keycloakPasswordHash(credential);
        if (kept === undefined) note(`password hashed with ${String(jsonField(credential.credentialData).algorithm)}: no verifier in Gatehouse; the user must reset the password`);
        else {
          passwordHash = kept.hash;
          passwordAlgorithm = kept.algorithm;
          if (typeof credential.createdDate === 'number') passwordSetAt = new Date(credential.createdDate);
        }
      } else if (credential.type === 'otp') {
        const label = text(credential.userLabel) === undefined ? 'authenticator' : `authenticator "${String(credential.userLabel)}"`;
        if (totp !== undefined) {
          note(`${label}: not imported (Gatehouse keeps one authenticator app per user; the first in Keycloak's order was)`);
          continue;
        }
        const otp = keycloakTotp(credential, jsonField(credential.secretData), jsonField(credential.credentialData));
        if (otp.ok) totp = otp.totp;
        else note(`${label}: ${otp.reason}`);
      } else if (credential.type !== 'password') {
        note(`${String(credential.type)} credential: not imported (passwords and time-based authenticators are)`);
      }
    }
    if (passwordAlgorithm === undefined && list(raw.credentials).length === 0) note('no password in Keycloak (e.g. signs in through an identity provider): imported without a usable password');
    for (const action of strings(raw.requiredActions)) note(`required action ${action}: not carried over`);
    const attributes: Record<string, unknown> = {};
    const skipped: string[] = [];
    for (const [name, values] of Object.entries(isObject(raw.attributes) ? raw.attributes : {})) {
      // Attributes named after an OpenID standard claim become that claim; the rest have no place.
      const schema = STRING_ATTRIBUTES.has(name) ? profileAttributesInput[name as keyof typeof profileAttributesInput] : undefined;
      const value = strings(values);
      const parsed = schema !== undefined && value.length === 1 ? schema.safeParse(value[0]) : undefined;
      if (parsed?.success === true && typeof parsed.data === 'string') attributes[name] = parsed.data;
      else skipped.push(name);
    }
    if (skipped.length > 0) note(`attributes ${skipped.join(', ')}: not imported (only single values named after OpenID standard claims are)`);
    for (const link of list(raw.federatedIdentities)) if (isObject(link)) note(`identity provider link ${String(link.identityProvider)}: not imported`);
    const email = text(raw.email)?.trim().toLowerCase() ?? null;
    const givenName = text(raw.firstName) ?? null;
    const familyName = text(raw.lastName) ?? null;
    const created = new Date(typeof raw.createdTimestamp === 'number' ? raw.createdTimestamp : now.getTime());
    users.push({
      passwordAlgorithm,
      passwordSetAt,
      totp,
      user: {
        _id: raw.id,
        username,
        usernameKey: usernameKey(username),
        email,
        emailKey: email === null ? noEmailKey(raw.id) : emailKey(email),
        emailVerified: email !== null && raw.emailVerified === true,
        givenName,
        familyName,
        name: [givenName, familyName].filter((part) => part !== null).join(' ') || null,
        roles: [...userRoles].sort(),
        groups: memberOf,
        disabled: raw.enabled === false,
        secondFactor: totp !== undefined,
        ...(Object.keys(attributes).length > 0 ? { attributes: attributes as ProfileAttributes } : {}),
        passwordHash,
        passwordChangedAt: passwordSetAt,
        lastLoginAt: null,
        createdAt: created,
        updatedAt: now,
      },
    });
  }

  for (const provider of list(document.identityProviders)) {
    if (isObject(provider)) unmapped.push({ kind: 'identity provider', name: String(provider.alias), reason: 'upstream sign-in is not supported yet' });
  }
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
  if (text(document.passwordPolicy) !== undefined) unmapped.push({ kind: 'realm setting', name: 'passwordPolicy', reason: `${String(document.passwordPolicy)}: use GATEHOUSE_PASSWORD_MIN_LENGTH and the argon2 settings` });
  if (document.bruteForceProtected === true) unmapped.push({ kind: 'realm setting', name: 'bruteForceProtected', reason: 'Gatehouse always limits sign-in attempts (GATEHOUSE_LOCKOUT_*)' });

  const groupLabels = [...groups.keys()].map((name) => ({ name, description: '' }));
  return {
    realm,
    roles: [...roleLabels].map(([name, description]) => ({ name, description })),
    groups: groupLabels,
    clients,
    users,
    unmapped,
  };
}
