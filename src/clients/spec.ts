import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { matching } from '../errors/zod-checks.ts';
import { SCOPE_LIST, SCOPE_TOKEN } from '../apis/scope-syntax.ts';
import { APPLICATION_TYPES, isRedirectUriShape, REDIRECT_URI_PATTERN } from './redirect-uris.ts';
import { hasHiddenCharacter } from '../accounts/normalize.ts';
import { ADMIN_ROLE } from '../roles/admin-role.ts';
import { labelName } from '../roles/label-name.ts';

/**
 * The algorithms a client may have its userinfo signed with (userinfo_signed_response_alg): the
 * provider's own key types (docs/KEYS.md). The provider's configuration enables exactly these.
 */
export const USERINFO_SIGNING_ALGS = ['RS256', 'ES256'] as const;

/** The claim shapes a client's tokens can take (gatehouse: as each API says; keycloak: Keycloak's, for every token of the client). */
/** Most service-account roles of a client (a Keycloak import keeps to it; a role name's most characters: LABEL_NAME_MAX). */
export const SERVICE_ACCOUNT_ROLES_MAX = 100;
export const CLIENT_TOKEN_CLAIMS = ['gatehouse', 'keycloak'] as const;

// Refinements are invisible to z.toJSONSchema; .meta() puts what they check into the OpenAPI document.
const uri = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).hash === '', says('uri'))
  .meta({ format: 'uri', description: 'An absolute URI without a fragment' });
/**
 * Where a browser is sent back to. The scheme rules depend on application_type (web: http(s);
 * native: also private-use schemes and loopback, src/clients/redirect-uris.ts), checked in
 * src/operations/clients.ts; what no client may have (javascript:, data:, fragments) is refused
 * here, so it is never stored.
 */
const redirectUri = z
  .string()
  .max(2000)
  .refine(isRedirectUriShape, says('redirect_uri'))
  .meta({
    format: 'uri',
    pattern: REDIRECT_URI_PATTERN,
    description: 'web clients: an absolute http(s) URI; native clients: also a private-use scheme (com.example.app:/callback) or http://127.0.0.1 / http://[::1] (any port at request time). No fragment.',
  });
const origin = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, says('origin'))
  .meta({ pattern: '^https?://[^/?#]+$', description: 'An origin such as https://app.example.com (scheme, host and port only)' });
/** Pages and endpoints on the web (logo, policy, back-channel logout, JWKS): http(s) only, never javascript:. */
export const webUri = z
  .string()
  .max(2000)
  .refine((value) => URL.canParse(value) && ['https:', 'http:'].includes(new URL(value).protocol) && new URL(value).hash === '', says('web_url'))
  .meta({ format: 'uri', pattern: '^https?://[^#]+$', description: 'An absolute http(s) URL without a fragment' });
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
/** Members that only private keys carry. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const jwks = z
  .object({
    keys: z
      .array(
        z
          .object({ kty: z.string().min(1) })
          .catchall(z.unknown())
          .refine((key) => PRIVATE_JWK_MEMBERS.every((member) => !(member in key)), says('public_keys_only')),
      )
      .min(1)
      .max(20),
  })
  .strict();

const common = {
  name: z.string().trim().min(1).max(200).refine((name) => !hasHiddenCharacter(name), says('hidden_character')),
  application_type: z.enum(APPLICATION_TYPES).describe('native: an RFC 8252 app (private-use scheme or loopback redirect URIs, any loopback port); default web'),
  redirect_uris: z.array(redirectUri),
  post_logout_redirect_uris: z.array(redirectUri),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
  scope: matching(z.string(), SCOPE_LIST, 'scope_list'),
  default_scopes: z
    .array(matching(z.string(), SCOPE_TOKEN, 'scope_tokens'))
    .max(50)
    .describe(
      "Keycloak's default client scopes: added to every authorization, device and password-grant request of this client whether it names them or not (so its tokens carry their claims and list them in scope). Each must be one of the client's scope (any known scope when scope is unset); never openid or offline_access",
    ),
  apis: z.array(uri),
  default_api: uri,
  first_party: z.boolean(),
  admin: z.boolean(),
  web_origins: z.array(origin),
  require_pkce: z.boolean(),
  require_mfa: z.boolean().describe('every sign-in to this client needs a second factor (users without one enrol first)'),
  /** The resource-owner password grant (confidential first-party clients only; README "Password grant"). */
  allow_password_grant: z.boolean(),
  /** RFC 8693 policy: the APIs this client may exchange user tokens for, and whose tokens it may exchange. */
  token_exchange: z.object({ apis: z.array(uri).min(1), trusted_clients: z.array(z.string().min(1)).min(1) }).strict(),
  /** Per-API scope limits; an API not listed allows all its scopes. */
  api_scopes: z.array(z.object({ api: uri, scopes: z.array(matching(z.string(), SCOPE_LIST, 'scope_names')) }).strict()),
  token_endpoint_auth_method: z.enum(AUTH_METHODS).describe('none = a public client; private_key_jwt needs jwks or jwks_uri'),
  jwks: jwks.describe('the client\'s public keys (private_key_jwt)'),
  jwks_uri: webUri.describe('where the client publishes its public keys (private_key_jwt)'),
  logo_uri: webUri,
  client_uri: webUri,
  policy_uri: webUri,
  tos_uri: webUri,
  backchannel_logout_uri: webUri.describe('receives a logout token when the user signs out'),
  backchannel_logout_session_required: z.boolean(),
  minimal_id_token: z.boolean().describe('ID tokens as OIDC Core 5.4 has them: sub, acr/amr and the claims the claims parameter names there; scope claims only at userinfo'),
  login_uses_default_api: z.boolean().describe('the code flow without resource also gets the default API\'s JWT'),
  userinfo_signed_response_alg: z
    .enum(USERINFO_SIGNING_ALGS)
    .describe('userinfo answers a JWT (application/jwt) signed with this algorithm by the provider\'s keys; unset: plain JSON'),
  token_claims: z
    .enum(CLIENT_TOKEN_CLAIMS)
    .describe('keycloak: this client\'s access and ID tokens carry Keycloak\'s claims (typ, azp, realm_access, resource_access, preferred_username, sid), whatever API they are for'),
  // The names users carry (the one rule of role names, src/roles/label-name.ts: `admin\u200B` would
  // show as admin wherever it is read); they need not exist yet, as default_roles.
  service_account_roles: z
    .array(labelName)
    .max(SERVICE_ACCOUNT_ROLES_MAX)
    // A resource server reading `roles: ["admin"]` would take the service for Gatehouse's administrator.
    .refine((list) => !list.includes(ADMIN_ROLE), says('admin_service_account_role'))
    .transform((list) => [...new Set(list)])
    .describe(
      "Keycloak's service-account roles: this client's client_credentials tokens carry them as a user's tokens carry the user's roles (roles for an API that includes roles; realm_access and resource_access with Keycloak's claims, <client>:<role> under resource_access). Never admin",
    ),
};

/**
 * Standard client metadata an operator sets as is (the rest — redirect URIs, grant types, API
 * access — has rules of its own in src/operations/clients.ts). Null in an update removes it.
 */
export const PLAIN_METADATA = [
  'scope',
  'require_pkce',
  'require_mfa',
  'jwks',
  'jwks_uri',
  'logo_uri',
  'client_uri',
  'policy_uri',
  'tos_uri',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'minimal_id_token',
  'login_uses_default_api',
  'token_claims',
  'userinfo_signed_response_alg',
  'service_account_roles',
] as const;

/** A new client as an operator describes it (admin API body, CLI flags). */
export const clientCreateSchema = z
  .object({
    client_id: matching(z.string(), /^[\x21-\x7e]{1,128}$/, 'client_id_format').optional(),
    type: z.enum(['confidential', 'public']).optional().describe('public = token_endpoint_auth_method none; default confidential'),
    name: common.name,
    application_type: common.application_type.default('web'),
    redirect_uris: common.redirect_uris.default([]),
    post_logout_redirect_uris: common.post_logout_redirect_uris.default([]),
    grant_types: common.grant_types.optional(),
    scope: common.scope.optional(),
    default_scopes: common.default_scopes.optional(),
    apis: common.apis.default([]),
    default_api: common.default_api.optional(),
    first_party: common.first_party.default(false),
    admin: common.admin.default(false),
    web_origins: common.web_origins.default([]),
    require_pkce: common.require_pkce.optional(),
    require_mfa: common.require_mfa.optional(),
    allow_password_grant: common.allow_password_grant.optional(),
    token_exchange: common.token_exchange.optional(),
    api_scopes: common.api_scopes.optional(),
    token_endpoint_auth_method: common.token_endpoint_auth_method.optional(),
    jwks: common.jwks.optional(),
    jwks_uri: common.jwks_uri.optional(),
    logo_uri: common.logo_uri.optional(),
    client_uri: common.client_uri.optional(),
    policy_uri: common.policy_uri.optional(),
    tos_uri: common.tos_uri.optional(),
    backchannel_logout_uri: common.backchannel_logout_uri.optional(),
    backchannel_logout_session_required: common.backchannel_logout_session_required.optional(),
    minimal_id_token: common.minimal_id_token.optional(),
    login_uses_default_api: common.login_uses_default_api.optional(),
    token_claims: common.token_claims.optional(),
    userinfo_signed_response_alg: common.userinfo_signed_response_alg.optional(),
    service_account_roles: common.service_account_roles.optional(),
  })
  .strict();

export const clientUpdateSchema = z
  .object({
    name: common.name.optional(),
    application_type: common.application_type.optional(),
    redirect_uris: common.redirect_uris.optional(),
    post_logout_redirect_uris: common.post_logout_redirect_uris.optional(),
    grant_types: common.grant_types.optional(),
    scope: common.scope.nullable().optional(),
    default_scopes: common.default_scopes.nullable().optional(),
    apis: common.apis.optional(),
    default_api: common.default_api.nullable().optional(),
    first_party: common.first_party.optional(),
    admin: common.admin.optional(),
    web_origins: common.web_origins.optional(),
    require_pkce: common.require_pkce.nullable().optional(),
    require_mfa: common.require_mfa.nullable().optional(),
    allow_password_grant: common.allow_password_grant.optional(),
    token_exchange: common.token_exchange.nullable().optional(),
    api_scopes: common.api_scopes.nullable().optional(),
    token_endpoint_auth_method: common.token_endpoint_auth_method.exclude(['none']).optional().describe('between confidential methods; a public client stays public'),
    jwks: common.jwks.nullable().optional(),
    jwks_uri: common.jwks_uri.nullable().optional(),
    logo_uri: common.logo_uri.nullable().optional(),
    client_uri: common.client_uri.nullable().optional(),
    policy_uri: common.policy_uri.nullable().optional(),
    tos_uri: common.tos_uri.nullable().optional(),
    backchannel_logout_uri: common.backchannel_logout_uri.nullable().optional(),
    backchannel_logout_session_required: common.backchannel_logout_session_required.nullable().optional(),
    minimal_id_token: common.minimal_id_token.nullable().optional(),
    login_uses_default_api: common.login_uses_default_api.nullable().optional(),
    token_claims: common.token_claims.nullable().optional(),
    userinfo_signed_response_alg: common.userinfo_signed_response_alg.nullable().optional(),
    service_account_roles: common.service_account_roles.nullable().optional(),
  })
  .strict()
  // Only once the fields themselves are fine: an unknown field is not "nothing to change".
  .refine((patch) => Object.keys(patch).length > 0, { ...says('nothing_to_change'), when: (payload) => payload.issues.length === 0 })
  .meta({ minProperties: 1 });

export type ClientCreate = z.output<typeof clientCreateSchema>;
export type ClientUpdate = z.output<typeof clientUpdateSchema>;

/** Sign-in clients get the code flow; a confidential client without redirect URIs is a service. */
export function defaultGrantTypes(type: 'confidential' | 'public', redirectUris: readonly string[]): string[] {
  if (type === 'public' || redirectUris.length > 0) return ['authorization_code', 'refresh_token'];
  return ['client_credentials'];
}

/** response_types must agree with grant_types, or oidc-provider refuses the client. */
export function responseTypes(grantTypes: readonly string[]): string[] {
  return grantTypes.includes('authorization_code') ? ['code'] : [];
}
