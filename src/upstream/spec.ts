import { z } from 'zod';
import { matching } from '../errors/zod-checks.ts';
import { problemText, says, type ProblemCode } from '../errors/problems.ts';
import { hasHiddenCharacter } from '../accounts/normalize.ts';
import { labelName } from '../roles/label-name.ts';

/**
 * What an operator says about an upstream identity provider (admin API, CLI, console): the
 * request schemas and the presets for well-known providers. Field names are the admin API's
 * (snake_case), and the stored document keeps them (src/upstream/directory.ts).
 */

/** The provider's alias: its path segment in the callback URL (`<upstream>/<alias>/callback`). */
export const ALIAS = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** http(s) only; plain http only on loopback (a test's or a developer's own provider). */
export const upstreamUrl = z
  .string()
  .max(2000)
  .refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return url.hash === '' && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)));
    },
    says('upstream_url'),
  )
  .meta({ format: 'uri', description: 'An https URL (http only for localhost / 127.0.0.1)' });

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const claimName = matching(z.string().trim().min(1).max(200), /^[^\s]+$/, 'claim_name');
// A mapping's local role or group: the one rule of their names (src/roles/label-name.ts).
const label = labelName;
const domain = matching(z.string().trim().toLowerCase(), /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'domain_name');

export const UPSTREAM_KINDS = ['oidc', 'oauth2'] as const;
export const UPSTREAM_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export const MAPPING_MODES = ['every_sign_in', 'first_sign_in'] as const;
export const PRESETS = ['google', 'microsoft', 'github', 'gitlab', 'keycloak'] as const;
export type Preset = (typeof PRESETS)[number];

/** Which upstream claim gives which local attribute; `subject` is the stable id the link is keyed by. */
export const claimMappingSchema = z
  .object({
    subject: claimName.default('sub'),
    username: claimName.default('preferred_username'),
    email: claimName.default('email'),
    email_verified: claimName.default('email_verified'),
    name: claimName.default('name'),
    picture: claimName.default('picture'),
  })
  .strict();

/** Some of the mapping (create, update): what is left out keeps the preset's or the current value. */
export const claimPatchSchema = z
  .object({ subject: claimName, username: claimName, email: claimName, email_verified: claimName, name: claimName, picture: claimName })
  .partial()
  .strict();

/** An upstream claim value that gives a local role or group: `{claim: "groups", value: "admins", role: "admin"}`. */
const roleRule = z.object({ claim: claimName, value: z.string().min(1).max(500), role: label }).strict();
const groupRule = z.object({ claim: claimName, value: z.string().min(1).max(500), group: label }).strict();

const privateJwk = z
  .object({ kty: z.string().min(1), d: z.string().min(1) })
  .catchall(z.unknown())
  .meta({ description: 'The private key (JWK) Gatehouse signs its client assertion with; stored encrypted, never returned' });

const fields = {
  alias: matching(z.string(), ALIAS, 'alias'),
  kind: z.enum(UPSTREAM_KINDS),
  display_name: z.string().trim().min(1).max(100).refine((name) => !hasHiddenCharacter(name), says('hidden_character')),
  icon_url: upstreamUrl.nullable(),
  /** kind oidc: the issuer; endpoints and keys come from its discovery document. */
  issuer: upstreamUrl.nullable(),
  /** kind oauth2 (and overrides for oidc): the endpoints. */
  authorization_endpoint: upstreamUrl.nullable(),
  token_endpoint: upstreamUrl.nullable(),
  userinfo_endpoint: upstreamUrl.nullable(),
  client_id: z.string().trim().min(1).max(500),
  client_secret: z.string().min(1).max(2000).meta({ description: 'Stored encrypted; never returned' }),
  private_key_jwk: privateJwk,
  token_endpoint_auth_method: z.enum(UPSTREAM_AUTH_METHODS),
  scopes: z.array(matching(z.string(), /^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scope_token')).max(50),
  claims: claimMappingSchema,
  role_mappings: z.array(roleRule).max(200),
  group_mappings: z.array(groupRule).max(200),
  mapping_mode: z.enum(MAPPING_MODES),
  create_accounts: z.boolean(),
  link_by_email: z.boolean(),
  trust_email: z.boolean().meta({ description: 'Treat the upstream email as verified even without email_verified (only for providers that verify every address)' }),
  allowed_domains: z.array(domain).max(200),
  home_domains: z.array(domain).max(200).meta({ description: 'Typed emails in these domains go straight to this provider' }),
  clients: z.array(z.string().min(1).max(200)).max(500).nullable().meta({ description: 'Client ids that may use this provider; null = every client' }),
  enabled: z.boolean(),
  upstream_logout: z.boolean().meta({ description: 'Signing out of Gatehouse continues to the upstream end-session endpoint' }),
  hide_on_login: z
    .boolean()
    .meta({ description: "No button on the sign-in page (Keycloak's hideOnLogin): the provider stays usable through idp_hint / kc_idp_hint, home_domains and the account page" }),
};

const presetFields = {
  preset: z.enum(PRESETS).optional(),
  /** preset microsoft: the Entra ID tenant (id, domain, `organizations` or `common`). */
  tenant: matching(z.string(), /^[A-Za-z0-9.-]{1,100}$/, 'tenant').optional(),
  /** preset keycloak: the realm URL, https://kc.example.com/realms/<realm>; preset gitlab: a self-managed GitLab URL. */
  base_url: upstreamUrl.optional(),
};

export const upstreamCreateSchema = z
  .object({
    ...presetFields,
    alias: fields.alias,
    kind: fields.kind.optional(),
    display_name: fields.display_name.optional(),
    icon_url: fields.icon_url.optional(),
    issuer: fields.issuer.optional(),
    authorization_endpoint: fields.authorization_endpoint.optional(),
    token_endpoint: fields.token_endpoint.optional(),
    userinfo_endpoint: fields.userinfo_endpoint.optional(),
    client_id: fields.client_id,
    client_secret: fields.client_secret.optional(),
    private_key_jwk: fields.private_key_jwk.optional(),
    token_endpoint_auth_method: fields.token_endpoint_auth_method.optional(),
    scopes: fields.scopes.optional(),
    claims: claimPatchSchema.optional(),
    role_mappings: fields.role_mappings.default([]),
    group_mappings: fields.group_mappings.default([]),
    mapping_mode: fields.mapping_mode.default('every_sign_in'),
    create_accounts: fields.create_accounts.default(true),
    link_by_email: fields.link_by_email.default(false),
    trust_email: fields.trust_email.default(false),
    allowed_domains: fields.allowed_domains.default([]),
    home_domains: fields.home_domains.default([]),
    clients: fields.clients.default(null),
    enabled: fields.enabled.default(true),
    upstream_logout: fields.upstream_logout.default(false),
    hide_on_login: fields.hide_on_login.default(false),
  })
  .strict();

export const upstreamUpdateSchema = z
  .object({
    display_name: fields.display_name,
    icon_url: fields.icon_url,
    issuer: fields.issuer,
    authorization_endpoint: fields.authorization_endpoint,
    token_endpoint: fields.token_endpoint,
    userinfo_endpoint: fields.userinfo_endpoint,
    client_id: fields.client_id,
    client_secret: fields.client_secret,
    private_key_jwk: fields.private_key_jwk,
    token_endpoint_auth_method: fields.token_endpoint_auth_method,
    scopes: fields.scopes,
    claims: claimPatchSchema,
    role_mappings: fields.role_mappings,
    group_mappings: fields.group_mappings,
    mapping_mode: fields.mapping_mode,
    create_accounts: fields.create_accounts,
    link_by_email: fields.link_by_email,
    trust_email: fields.trust_email,
    allowed_domains: fields.allowed_domains,
    home_domains: fields.home_domains,
    clients: fields.clients,
    enabled: fields.enabled,
    upstream_logout: fields.upstream_logout,
    hide_on_login: fields.hide_on_login,
  })
  .partial()
  .strict();

export type UpstreamCreate = z.infer<typeof upstreamCreateSchema>;
export type UpstreamUpdate = z.infer<typeof upstreamUpdateSchema>;
export type ClaimMapping = z.infer<typeof claimMappingSchema>;

/** The settings of one upstream provider, as stored (secrets apart). */
export interface UpstreamSettings {
  readonly alias: string;
  readonly kind: (typeof UPSTREAM_KINDS)[number];
  readonly display_name: string;
  readonly icon_url: string | null;
  readonly issuer: string | null;
  readonly authorization_endpoint: string | null;
  readonly token_endpoint: string | null;
  readonly userinfo_endpoint: string | null;
  readonly client_id: string;
  readonly token_endpoint_auth_method: (typeof UPSTREAM_AUTH_METHODS)[number];
  readonly scopes: readonly string[];
  readonly claims: ClaimMapping;
  readonly role_mappings: ReadonlyArray<{ claim: string; value: string; role: string }>;
  readonly group_mappings: ReadonlyArray<{ claim: string; value: string; group: string }>;
  readonly mapping_mode: (typeof MAPPING_MODES)[number];
  readonly create_accounts: boolean;
  readonly link_by_email: boolean;
  readonly trust_email: boolean;
  readonly allowed_domains: readonly string[];
  readonly home_domains: readonly string[];
  readonly clients: readonly string[] | null;
  readonly enabled: boolean;
  readonly upstream_logout: boolean;
  /** Enabled but without a button on the sign-in page: reached by an IdP hint (Keycloak's hideOnLogin). */
  readonly hide_on_login: boolean;
}

/** A rule spanning an upstream provider's fields that it breaks: the field, the problem and its values. */
export interface UpstreamProblem {
  readonly field: string;
  readonly code: ProblemCode;
  readonly params?: Readonly<Record<string, string>>;
}

type CrossFieldSettings = Pick<UpstreamSettings, 'kind' | 'issuer' | 'scopes' | 'authorization_endpoint' | 'token_endpoint' | 'userinfo_endpoint' | 'token_endpoint_auth_method'>;

/**
 * The rules that span an upstream provider's fields, one list for the admin API (create and
 * update: the first problem is its 400) and `gatehouse import` (every problem, at its path): where
 * it signs its users in, and the secret or key its token endpoint method needs.
 */
export function upstreamProblems(settings: CrossFieldSettings, secrets: { readonly hasSecret: boolean; readonly hasKey: boolean }): UpstreamProblem[] {
  const problems: UpstreamProblem[] = [];
  if (settings.kind === 'oidc') {
    if (settings.issuer === null) problems.push({ field: 'issuer', code: 'issuer_required' });
    if (!settings.scopes.includes('openid')) problems.push({ field: 'scopes', code: 'openid_scope_required' });
  } else {
    for (const field of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'] as const) {
      if (settings[field] === null) problems.push({ field, code: 'required_for_oauth2' });
    }
  }
  const method = settings.token_endpoint_auth_method;
  if (method === 'private_key_jwt' && !secrets.hasKey) problems.push({ field: 'private_key_jwk', code: 'private_key_required' });
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !secrets.hasSecret) problems.push({ field: 'client_secret', code: 'client_secret_required', params: { method } });
  return problems;
}

type PresetValues = Partial<Omit<UpstreamSettings, 'claims'>> & { claims?: Partial<ClaimMapping> };

/** The known values of a preset; what the operator sends wins over them. */
export function presetValues(preset: Preset, options: { tenant?: string | undefined; base_url?: string | undefined }): PresetValues {
  switch (preset) {
    case 'google':
      return { kind: 'oidc', display_name: 'Google', issuer: 'https://accounts.google.com', scopes: ['openid', 'email', 'profile'], claims: { username: 'email' } };
    case 'microsoft':
      return {
        kind: 'oidc',
        display_name: 'Microsoft',
        issuer: `https://login.microsoftonline.com/${options.tenant ?? 'organizations'}/v2.0`,
        scopes: ['openid', 'email', 'profile'],
        // Entra ID's `sub` is per application and stable; `oid` is the user's object id in the tenant.
        claims: { username: 'preferred_username' },
      };
    case 'github':
      return {
        kind: 'oauth2',
        display_name: 'GitHub',
        authorization_endpoint: 'https://github.com/login/oauth/authorize',
        token_endpoint: 'https://github.com/login/oauth/access_token',
        userinfo_endpoint: 'https://api.github.com/user',
        token_endpoint_auth_method: 'client_secret_post',
        scopes: ['read:user', 'user:email'],
        claims: { subject: 'id', username: 'login', email: 'email', name: 'name', picture: 'avatar_url' },
      };
    case 'gitlab':
      return { kind: 'oidc', display_name: 'GitLab', issuer: options.base_url ?? 'https://gitlab.com', scopes: ['openid', 'profile', 'email'], claims: { username: 'nickname' } };
    case 'keycloak':
      if (options.base_url === undefined) throw new PresetError('base_url', 'keycloak_realm_url');
      return { kind: 'oidc', display_name: 'Keycloak', issuer: options.base_url, scopes: ['openid', 'profile', 'email'] };
  }
}

/** A preset cannot be applied: `field` is at fault, `problem` names why (src/errors/problems.ts). */
export class PresetError extends Error {
  readonly field: string;
  readonly problem: ProblemCode;
  constructor(field: string, problem: ProblemCode) {
    super(problemText(problem));
    this.field = field;
    this.problem = problem;
  }
}

/** A dotted claim path into the upstream's claims (`realm_access.roles`); a claim whose own name has dots wins. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
