import { redirectUriProblem, type ApplicationType } from '../clients/redirect-uris.ts';
import { USERINFO_SIGNING_ALGS, webUri } from '../clients/spec.ts';
import { problemText } from '../errors/problems.ts';
import type { ExportedClient } from '../clients/repository.ts';
import { isObject, list, strings, text, type Json, type UnmappedItem } from './export-json.ts';
import type { MappedClientScopes } from './map-client-scopes.ts';
import { ASKED_ONLY_SCOPES } from '../clients/asked-only-scopes.ts';

/** Keycloak default client scopes that do not become Gatehouse default scopes (see mapClient). */
const NEVER_DEFAULT: readonly string[] = [...ASKED_ONLY_SCOPES, 'roles'];

/**
 * Keycloak clients as Gatehouse clients: exact redirect URIs (resolved against the root URL),
 * flows, secret or public, web origins, PKCE, Keycloak-shaped tokens. What does not fit is
 * reported, and a client that cannot work is left out.
 *
 * Native apps (RFC 8252) have no client type in Keycloak; their redirect URIs give them away. A
 * client with a private-use scheme (`com.example.app:/callback`), or whose every redirect URI is
 * a loopback one registered without a port (`http://127.0.0.1/callback`, which Keycloak matches
 * on any port), becomes `application_type: native`: Gatehouse then takes the scheme and lets the
 * app pick its loopback port at request time. Its URIs are checked by the rules the admin API
 * applies to native clients (src/clients/redirect-uris.ts); those that break them are reported.
 */

/**
 * The clients every Keycloak realm has (account console, admin console and CLI, brokering, realm
 * management): skipped on purpose — Gatehouse has its own console, account page and admin API —
 * and reported apart from what could not be mapped. Their client roles are not imported either.
 */
export const BUILTIN_CLIENTS = new Set(['account', 'account-console', 'admin-cli', 'broker', 'realm-management', 'security-admin-console']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const isWebUri = (uri: string) => /^https?:$/.test(new URL(uri).protocol);

/** What makes a redirect URI a native app's: a private-use scheme, or loopback without a port (Keycloak: any port). */
function nativeKind(uri: string): 'private-use scheme' | 'loopback, any port' | undefined {
  const url = new URL(uri);
  if (!isWebUri(uri)) return 'private-use scheme';
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.port === '') return 'loopback, any port';
  return undefined;
}

interface MappedClient {
  readonly metadata: Json;
  readonly firstParty: boolean;
  readonly webOrigins: string[];
  readonly secret: string | null;
  /** For a client mapped to a native app: its redirect URIs and what each is. */
  readonly native: string[] | undefined;
}

function clientMetadata(client: Json, clientScopes: MappedClientScopes, unmapped: UnmappedItem[]): MappedClient | undefined {
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
      if (uri.includes('*')) {
        // Keycloak's `http://127.0.0.1:*` is a native app on any loopback port and path.
        const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(uri) ? '; a native app on loopback: register http://127.0.0.1/<its path> without a port (any port is then accepted)' : '';
        note(`${what} ${uri}: wildcards are not supported (Gatehouse matches redirect URIs exactly); register each URI${loopback}`);
      }
      else if (resolved === undefined) note(`${what} ${uri}: not an absolute URI and the client has no root URL`);
      else kept.push(resolved);
    }
    return kept;
  };

  const grantTypes: string[] = [];
  if (client.standardFlowEnabled === true) grantTypes.push('authorization_code', 'refresh_token');
  if (client.serviceAccountsEnabled === true) grantTypes.push('client_credentials');
  if (attributes['oauth2.device.authorization.grant.enabled'] === 'true') grantTypes.push('urn:ietf:params:oauth:grant-type:device_code');
  if (client.directAccessGrantsEnabled === true) {
    note('direct access grants (password grant): not turned on; the client keeps its other flows. A confidential first-party client that must take passwords opts in: gatehouse clients update <client_id> --allow-password-grant');
  }
  if (client.implicitFlowEnabled === true) note('the implicit flow is not supported (authorization code with PKCE replaces it)');
  if (client.bearerOnly === true || grantTypes.length === 0) {
    note('no flow Gatehouse serves (bearer-only or no standard flow / service account): not imported as a client; its client roles are kept as <client>:<role>');
    return undefined;
  }

  const exactRedirectUris = exactUris(strings(client.redirectUris), 'redirect URI');
  const kinds = exactRedirectUris.map(nativeKind);
  const applicationType: ApplicationType =
    kinds.includes('private-use scheme') || (kinds.length > 0 && kinds.every((kind) => kind === 'loopback, any port')) ? 'native' : 'web';
  const fitting = (uris: string[], what: string): string[] =>
    uris.filter((uri) => {
      const problem = redirectUriProblem(uri, applicationType);
      if (problem !== undefined) note(`${what} ${uri}: ${problemText(problem)}${applicationType === 'native' ? ' (the client is imported as a native app)' : ''}`);
      return problem === undefined;
    });
  const redirectUris = fitting(exactRedirectUris, 'redirect URI');
  const logoutAttribute = text(attributes['post.logout.redirect.uris']);
  const logoutUris =
    logoutAttribute === undefined
      ? []
      : logoutAttribute === '+'
        ? redirectUris
        : fitting(exactUris(logoutAttribute.split('##').filter((uri) => uri !== '' && uri !== '+'), 'post-logout redirect URI'), 'post-logout redirect URI');
  const origins = new Set<string>();
  for (const origin of strings(client.webOrigins)) {
    // "+": the origins of the redirect URIs; a private-use scheme has none.
    if (origin === '+') for (const uri of redirectUris.filter(isWebUri)) origins.add(new URL(uri).origin);
    else if (origin === '*') note('web origin *: any origin is not supported; list the origins');
    else if (URL.canParse(origin) && new URL(origin).origin === origin.replace(/\/$/, '')) origins.add(new URL(origin).origin);
    else note(`web origin ${origin}: not an origin`);
  }

  const publicClient = client.publicClient === true;
  let authMethod = 'none';
  let secret: string | null = null;
  if (!publicClient) {
    // Only Keycloak's "Client Id and Secret": the secret is then taken by HTTP Basic and in the
    // form, as in Keycloak. Gatehouse serves no client_secret_jwt ("Signed JWT with client
    // secret"): such a client would be stored and refused at every request, so it is reported.
    const authenticator = text(client.clientAuthenticatorType) ?? 'client-secret';
    if (authenticator !== 'client-secret') {
      note(`client authenticator ${authenticator} is not imported (use private_key_jwt with the client's JWKS, or a secret)`);
      return undefined;
    }
    authMethod = 'client_secret_basic';
    secret = text(client.secret) ?? null;
    if (secret === null) {
      note('confidential client without a secret in the export: not imported');
      return undefined;
    }
  }
  // Default and optional client scopes alike: scopes the client may ask for (src/keycloak/map-client-scopes.ts).
  const keycloakScopes = [...strings(client.defaultClientScopes), ...strings(client.optionalClientScopes)];
  const scopes = ['openid', ...keycloakScopes.flatMap((scope) => clientScopes.names.get(scope) ?? [])];
  const undefinedScopes = keycloakScopes.filter((scope) => !clientScopes.isKnown(scope));
  if (undefinedScopes.length > 0) note(`client scopes ${undefinedScopes.join(', ')}: not defined in the export's clientScopes, not imported`);
  // Keycloak adds default client scopes to every request, named or not: so does Gatehouse with the
  // client's default_scopes (src/oidc/default-scopes.ts), for those it maps. Not `roles`: Keycloak's
  // puts realm_access and resource_access into the access token, which token_claims keycloak does
  // already, where Gatehouse's `roles` scope would add a `roles` claim to ID tokens and userinfo that
  // Keycloak never gave. Nor offline_access: Keycloak gives an offline token only to a request that
  // names it. An export without the list leaves the client's defaults unset.
  const defaultScopes = Array.isArray(client.defaultClientScopes)
    ? [...new Set(strings(client.defaultClientScopes).flatMap((scope) => clientScopes.names.get(scope) ?? []))].filter((scope) => !NEVER_DEFAULT.includes(scope))
    : undefined;
  const metadata: Json = {
    ...(applicationType === 'native' ? { application_type: 'native' } : {}),
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
    scope: [...new Set(scopes)].join(' '),
    ...(defaultScopes === undefined ? {} : { default_scopes: defaultScopes }),
    // The app was written against Keycloak's tokens: its ID and access tokens keep their shape.
    token_claims: 'keycloak',
  };
  if (logoutUris.length > 0) metadata.post_logout_redirect_uris = logoutUris;
  if (attributes['pkce.code.challenge.method'] === 'S256' && !publicClient) metadata.require_pkce = true;
  // Keycloak's "User info signed response algorithm" (empty or "unsigned": JSON).
  const userinfoAlg = text(attributes['user.info.response.signature.alg']);
  if (userinfoAlg !== undefined && userinfoAlg !== 'unsigned') {
    if ((USERINFO_SIGNING_ALGS as readonly string[]).includes(userinfoAlg)) metadata.userinfo_signed_response_alg = userinfoAlg;
    else note(`userinfo signed with ${userinfoAlg}: Gatehouse signs userinfo with RS256 or ES256; the client gets JSON until one is set`);
  }
  // The app's home page, logo, policies and back-channel logout endpoint: each field takes what the
  // admin API takes there (http(s), no fragment); the provider refuses any other at every request,
  // so the client could never sign anyone in.
  const webUrls: ReadonlyArray<readonly [value: unknown, what: string, field: string]> = [
    [client.baseUrl, 'base URL', 'client_uri'],
    [attributes.logoUri, 'logo URL', 'logo_uri'],
    [attributes.policyUri, 'policy URL', 'policy_uri'],
    [attributes.tosUri, 'terms of service URL', 'tos_uri'],
    [attributes['backchannel.logout.url'], 'back-channel logout URL', 'backchannel_logout_uri'],
  ];
  for (const [value, what, field] of webUrls) {
    const given = text(value);
    if (given === undefined) continue;
    const resolved = absolute(given);
    if (resolved !== undefined && webUri.safeParse(resolved).success) metadata[field] = resolved;
    else note(`${what} ${given}: not mapped to ${field}, which must be an absolute http(s) URL without a fragment`);
  }
  if (metadata.backchannel_logout_uri !== undefined && attributes['backchannel.logout.session.required'] === 'true') metadata.backchannel_logout_session_required = true;
  const frontchannelUrl = text(attributes['frontchannel.logout.url']);
  if (frontchannelUrl !== undefined) {
    note(`front-channel logout URL ${frontchannelUrl}: not imported (Gatehouse has no front-channel logout; it signs apps out through back-channel logout, backchannel_logout_uri)`);
  }
  if (attributes['client.use.lightweight.access.token.enabled'] === 'true') {
    note("lightweight access tokens (client.use.lightweight.access.token.enabled): not carried over — Gatehouse has none; this client's access tokens carry every claim its scopes and token_claims give (Keycloak's resource servers read the claims left out at introspection; they find them in the token too)");
  }
  for (const mapper of list(client.protocolMappers)) {
    if (isObject(mapper)) note(`protocol mapper ${String(mapper.name)} (${String(mapper.protocolMapper)}): not mapped (Gatehouse's claims come from scopes and the API's token claims)`);
  }
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    note('no usable redirect URI: not imported (add exact redirect URIs and import again)');
    return undefined;
  }
  const native = applicationType === 'native' ? redirectUris.map((uri) => `${uri} (${nativeKind(uri) ?? 'claimed https URI'})`) : undefined;
  return { metadata, firstParty: client.consentRequired !== true, webOrigins: [...origins], secret, native };
}

/**
 * Every client of the export but Keycloak's own ones (named in `builtIn`) and disabled ones, and —
 * by client id — the redirect URIs of those mapped to native apps.
 */
export function mapClients(document: Json, now: Date, clientScopes: MappedClientScopes, unmapped: UnmappedItem[]): { clients: ExportedClient[]; nativeClients: Record<string, string[]>; builtIn: string[] } {
  const clients: ExportedClient[] = [];
  const nativeClients: Record<string, string[]> = {};
  const builtIn: string[] = [];
  for (const client of list(document.clients)) {
    if (!isObject(client) || typeof client.clientId !== 'string') continue;
    if (BUILTIN_CLIENTS.has(client.clientId)) {
      builtIn.push(client.clientId);
      continue;
    }
    if (client.enabled === false) {
      unmapped.push({ kind: 'client', name: client.clientId, reason: 'disabled in Keycloak: not imported' });
      continue;
    }
    const mapped = clientMetadata(client, clientScopes, unmapped);
    if (mapped === undefined) continue;
    if (mapped.native !== undefined) nativeClients[client.clientId] = mapped.native;
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
  // Built-in scopes with no counterpart, once each, when an imported client uses them.
  const used = new Set(list(document.clients).flatMap((client) => (isObject(client) && clients.some((kept) => kept.clientId === client.clientId) ? [...strings(client.defaultClientScopes), ...strings(client.optionalClientScopes)] : [])));
  for (const [name, reason] of clientScopes.without) if (used.has(name)) unmapped.push({ kind: 'client scope', name, reason });
  return { clients, nativeClients, builtIn: builtIn.sort() };
}
