import { z } from 'zod';

// Refinements are invisible to z.toJSONSchema; .meta() puts what they check into the OpenAPI document.
const uri = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).hash === '', { message: 'must be an absolute URI without a fragment' })
  .meta({ format: 'uri', description: 'An absolute URI without a fragment' });
/**
 * Where a browser is sent back to: http(s) only. Gatehouse's clients are web clients, which
 * oidc-provider allows nothing else for; refusing here names the field (a `javascript:` URI
 * would otherwise be stored and only fail when the client is loaded).
 */
const redirectUri = z
  .string()
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol) && new URL(value).hash === '', {
    message: 'must be an absolute http(s) URI without a fragment',
  })
  .meta({ format: 'uri', pattern: '^https?://[^#]+$', description: 'An absolute http(s) URI without a fragment' });
const origin = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, { message: 'must be an origin such as https://app.example.com' })
  .meta({ pattern: '^https?://[^/?#]+$', description: 'An origin such as https://app.example.com (scheme, host and port only)' });
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

const common = {
  name: z.string().trim().min(1).max(200),
  redirect_uris: z.array(redirectUri),
  post_logout_redirect_uris: z.array(redirectUri),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
  scope: z.string().regex(SCOPE, { message: 'space-separated scope names' }),
  apis: z.array(uri),
  default_api: uri,
  first_party: z.boolean(),
  admin: z.boolean(),
  web_origins: z.array(origin),
  require_pkce: z.boolean(),
  /** The resource-owner password grant (confidential first-party clients only; README "Password grant"). */
  allow_password_grant: z.boolean(),
  /** RFC 8693 policy: the APIs this client may exchange user tokens for, and whose tokens it may exchange. */
  token_exchange: z.object({ apis: z.array(uri).min(1), trusted_clients: z.array(z.string().min(1)).min(1) }).strict(),
  /** Per-API scope limits; an API not listed allows all its scopes. */
  api_scopes: z.array(z.object({ api: uri, scopes: z.array(z.string().regex(SCOPE, { message: 'scope names' })) }).strict()),
};

/** A new client as an operator describes it (admin API body, CLI flags). */
export const clientCreateSchema = z
  .object({
    client_id: z.string().regex(/^[\x21-\x7e]{1,128}$/, { message: 'printable ASCII, 1-128 characters' }).optional(),
    type: z.enum(['confidential', 'public']).default('confidential'),
    name: common.name,
    redirect_uris: common.redirect_uris.default([]),
    post_logout_redirect_uris: common.post_logout_redirect_uris.default([]),
    grant_types: common.grant_types.optional(),
    scope: common.scope.optional(),
    apis: common.apis.default([]),
    default_api: common.default_api.optional(),
    first_party: common.first_party.default(false),
    admin: common.admin.default(false),
    web_origins: common.web_origins.default([]),
    require_pkce: common.require_pkce.optional(),
    allow_password_grant: common.allow_password_grant.optional(),
    token_exchange: common.token_exchange.optional(),
    api_scopes: common.api_scopes.optional(),
  })
  .strict();

export const clientUpdateSchema = z
  .object({
    name: common.name.optional(),
    redirect_uris: common.redirect_uris.optional(),
    post_logout_redirect_uris: common.post_logout_redirect_uris.optional(),
    grant_types: common.grant_types.optional(),
    scope: common.scope.nullable().optional(),
    apis: common.apis.optional(),
    default_api: common.default_api.nullable().optional(),
    first_party: common.first_party.optional(),
    admin: common.admin.optional(),
    web_origins: common.web_origins.optional(),
    require_pkce: common.require_pkce.optional(),
    allow_password_grant: common.allow_password_grant.optional(),
    token_exchange: common.token_exchange.nullable().optional(),
    api_scopes: common.api_scopes.nullable().optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one field to change' })
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
