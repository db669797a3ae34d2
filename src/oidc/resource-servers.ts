import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ApiRegistry } from '../apis/registry.ts';
import type { AccountDirectory } from './accounts.ts';
import { adminScopesFor } from './admin-scope.ts';
import { audienceAsDefaultResource, refuseDisagreeingAudience } from './audience-parameter.ts';
import { clientFlag, clientList, clientProperty } from './client-metadata.ts';
import { isOidcScope } from './claims.ts';
import { keycloakClientTokenClaims, keycloakTokenClaims } from './keycloak-claims.ts';
import { scopeWords, type ClaimMapping } from '../claims/mapped-claims.ts';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;
type Client = Parameters<NonNullable<ResourceIndicators['getResourceServerInfo']>>[2];

function requestedScopes(ctx: KoaContextWithOIDC): string[] {
  const scope = ctx.oidc.params?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function isClientCredentials(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
}

/**
 * APIs as resource servers (RFC 8707). A client may only target the APIs it is allowed, and
 * only scopes that the API defines (besides the OpenID scopes): anything else is
 * invalid_target / invalid_scope, never silently dropped.
 */
export function resourceIndicators(apis: ApiRegistry, adminAudience?: string, accounts?: AccountDirectory, isOpenIdScope: (scope: string) => boolean = isOidcScope): ResourceIndicators {
  return {
    enabled: true,
    // Named resource first; otherwise the client's default API for client_credentials, and
    // for sign-ins only when the client opted in (its access token then is not for userinfo).
    defaultResource: async (ctx: KoaContextWithOIDC, client: Client, oneOf?: readonly string[]) => {
      // /token: an Auth0 `audience` that is not the named resource (audience-parameter.ts).
      refuseDisagreeingAudience(ctx);
      const defaultApi = clientProperty(client, 'default_api');
      if (oneOf !== undefined) {
        if (oneOf.length === 1) return oneOf[0]!;
        return typeof defaultApi === 'string' && oneOf.includes(defaultApi) ? defaultApi : oneOf;
      }
      // Auth0's name for the resource at the authorization endpoints (audience-parameter.ts).
      const audience = audienceAsDefaultResource(ctx);
      if (audience !== undefined) return audience;
      if (typeof defaultApi !== 'string') {
        if (isClientCredentials(ctx)) refuseScopesWithoutApi(ctx, isOpenIdScope);
        return undefined;
      }
      if (isClientCredentials(ctx) || clientFlag(client, 'login_uses_default_api')) return defaultApi;
      return undefined;
    },
    useGrantedResource: async () => true,
    getResourceServerInfo: async (ctx: KoaContextWithOIDC, identifier: string, client: Client) => {
      refuseDisagreeingAudience(ctx);
      const api = await apis.find(identifier);
      if (api === undefined) throw new errors.InvalidTarget(`unknown resource ${identifier}`);
      // The admin API's audience is for admin clients only, whatever their allowed_apis say.
      if (identifier === adminAudience && !clientFlag(client, 'admin_client')) {
        throw new errors.InvalidTarget('only admin clients may request tokens for the admin API');
      }
      if (!clientList(client, 'allowed_apis').includes(identifier)) {
        throw new errors.InvalidTarget('the client is not allowed to request tokens for this resource');
      }
      const unknown = requestedScopes(ctx).filter((scope) => !isOpenIdScope(scope) && !api.scopes.includes(scope));
      if (unknown.length > 0) {
        throw new errors.InvalidScope(`scope not defined by ${identifier}`, unknown.join(' '));
      }
      const limit = allowedScopesFor(client, identifier);
      const refused = limit === undefined ? [] : requestedScopes(ctx).filter((scope) => !isOpenIdScope(scope) && !limit.includes(scope));
      if (refused.length > 0) {
        throw new errors.InvalidScope(`the client is not allowed this scope of ${identifier}`, refused.join(' '));
      }
      // What the token may carry: the API's scopes, narrowed to the client's allowance (and for the
      // admin API, to what the user's roles allow).
      const allowed = limit === undefined ? api.scopes : api.scopes.filter((scope) => limit.includes(scope));
      return {
        scope: (identifier === adminAudience && accounts !== undefined ? await adminScopesFor(ctx, allowed, accounts) : allowed).join(' '),
        audience: api.identifier,
        accessTokenTTL: api.accessTokenTtl,
        accessTokenFormat: api.format,
        jwt: { sign: { alg: api.alg } },
      };
    },
  };
}

/**
 * client_credentials without a resource and without a default API: the token is for no API, so
 * a scope other than the OpenID ones could only be dropped; it is refused instead, like a scope
 * an API does not define.
 */
function refuseScopesWithoutApi(ctx: KoaContextWithOIDC, isOpenIdScope: (scope: string) => boolean): void {
  const unknown = requestedScopes(ctx).filter((scope) => !isOpenIdScope(scope));
  if (unknown.length > 0) {
    throw new errors.InvalidScope('the client has no API (no resource and no default API), so it cannot be granted this scope', unknown.join(' '));
  }
}

/** The client's scope allowance for one API, when its record limits it. */
function allowedScopesFor(client: object, identifier: string): string[] | undefined {
  const limits = clientProperty(client, 'allowed_api_scopes');
  if (!Array.isArray(limits)) return undefined;
  const entry = (limits as Array<{ api?: unknown; scopes?: unknown }>).find((item) => item.api === identifier);
  return Array.isArray(entry?.scopes) ? entry.scopes.filter((scope): scope is string => typeof scope === 'string') : undefined;
}

/**
 * The OpenID scopes an access token was granted with: its own scope, or for a token for an API
 * (whose scope holds the API's scopes) those of the code, refresh token or device code it comes
 * from, as the grant allows them.
 */
function grantedOpenIdScopes(ctx: KoaContextWithOIDC | undefined, token: object): string[] {
  const own = scopeWords((token as { scope?: unknown }).scope);
  if (!('resourceServer' in token) || token.resourceServer === undefined) return own;
  const entities = (ctx?.oidc?.entities ?? {}) as Record<string, { scope?: unknown } | undefined>;
  const grant = entities.Grant as { getOIDCScopeFiltered?(scopes: Set<string>): string } | undefined;
  const source = entities.AuthorizationCode ?? entities.RefreshToken ?? entities.DeviceCode ?? entities.BackchannelAuthenticationRequest;
  const requested = typeof ctx?.oidc?.params?.scope === 'string' ? ctx.oidc.params.scope : source?.scope;
  if (grant?.getOIDCScopeFiltered === undefined || typeof requested !== 'string') return own;
  return scopeWords(grant.getOIDCScopeFiltered(new Set(scopeWords(requested))));
}

/**
 * Claim scopes' access-token and introspection claims (src/claims/) around the other extra claims,
 * in the token's record (src/claims/shown-claims.ts gives its JWT and its introspection answer each their own). The profile comes
 * from the account cache; nothing is read for a token without such a scope (client_credentials
 * tokens have no user and get none).
 */
export function withMappedClaims(inner: NonNullable<Configuration['extraTokenClaims']>, mapping: ClaimMapping, accounts: AccountDirectory): NonNullable<Configuration['extraTokenClaims']> {
  if (mapping.scopeNames.length === 0) return inner;
  return async (ctx, token) => {
    const base = await inner(ctx, token);
    const accountId = 'accountId' in token ? token.accountId : undefined;
    if (typeof accountId !== 'string') return base;
    const scopes = grantedOpenIdScopes(ctx, token);
    if (!mapping.reaches('access_token_record', scopes)) return base;
    const profile = await accounts.findActive(accountId);
    if (profile === undefined) return base;
    return { ...mapping.claimsFor('access_token_record', scopes, profile.attributes), ...(base ?? {}) };
  };
}

/** roles / groups in access tokens for APIs that ask for them (JWT claims, introspection). */
export function extraTokenClaims(apis: ApiRegistry, accounts: AccountDirectory): NonNullable<Configuration['extraTokenClaims']> {
  return async (ctx, token) => {
    const audience = 'aud' in token ? token.aud : undefined;
    const accountId = 'accountId' in token ? token.accountId : undefined;
    const clientId = 'clientId' in token && typeof token.clientId === 'string' ? token.clientId : undefined;
    // A client with Keycloak claims gets them in every token (opaque ones show them at introspection).
    const keycloakClient = clientId !== undefined && ctx?.oidc?.client?.clientId === clientId && clientProperty(ctx.oidc.client, 'token_claims') === 'keycloak';
    const api = typeof audience === 'string' ? await apis.find(audience) : undefined;
    // A token without a user (client_credentials) carries the client's service-account roles where a user's would be.
    const serviceRoles = () => (ctx?.oidc?.client?.clientId === clientId ? clientList(ctx.oidc.client, 'service_account_roles') : []);
    if (keycloakClient || api?.tokenClaims === 'keycloak') {
      if (typeof accountId !== 'string') {
        if (clientId === undefined) return undefined;
        // Keycloak's service-account token whoever the client is (an API with Keycloak's claims called by a plain client too).
        return keycloakClientTokenClaims(clientId, serviceRoles(), typeof ctx?.ip === 'string' ? ctx.ip : undefined);
      }
      const profile = await accounts.findActive(accountId);
      if (profile === undefined) return undefined;
      const sid = 'sid' in token && typeof token.sid === 'string' ? token.sid : undefined;
      return keycloakTokenClaims({ profile: profile.claims, clientId, sid });
    }
    if (api === undefined) return undefined;
    if (typeof accountId !== 'string') {
      const roles = api.includeRoles ? serviceRoles() : [];
      return roles.length > 0 ? { roles } : undefined;
    }
    if (!api.includeRoles && !api.includeGroups) return undefined;
    const profile = await accounts.findActive(accountId);
    if (profile === undefined) return undefined;
    return {
      ...(api.includeRoles ? { roles: profile.claims.roles ?? [] } : {}),
      ...(api.includeGroups ? { groups: profile.claims.groups ?? [] } : {}),
    };
  };
}
