import type { GatehouseServices } from '../services.ts';
import type { UpstreamProvider } from '../upstream/directory.ts';
import {
  claimMappingSchema,
  PresetError,
  presetValues,
  upstreamCreateSchema,
  upstreamProblems,
  upstreamUpdateSchema,
  type UpstreamSettings,
} from '../upstream/spec.ts';
import type { OperationContext } from './context.ts';
import { invalid, notFound } from './errors.ts';

export { upstreamCreateSchema, upstreamUpdateSchema };

/** An upstream provider as operators see it: never the secret or the private key. */
export function showUpstream(provider: UpstreamProvider, redirectUri: string, postLogoutRedirectUri: string) {
  return {
    alias: provider.alias,
    kind: provider.kind,
    display_name: provider.display_name,
    icon_url: provider.icon_url,
    issuer: provider.issuer,
    authorization_endpoint: provider.authorization_endpoint,
    token_endpoint: provider.token_endpoint,
    userinfo_endpoint: provider.userinfo_endpoint,
    client_id: provider.client_id,
    token_endpoint_auth_method: provider.token_endpoint_auth_method,
    has_secret: provider.has_secret,
    has_private_key: provider.has_private_key,
    scopes: [...provider.scopes],
    claims: provider.claims,
    role_mappings: provider.role_mappings,
    group_mappings: provider.group_mappings,
    mapping_mode: provider.mapping_mode,
    create_accounts: provider.create_accounts,
    link_by_email: provider.link_by_email,
    trust_email: provider.trust_email,
    allowed_domains: [...provider.allowed_domains],
    home_domains: [...provider.home_domains],
    clients: provider.clients === null ? null : [...provider.clients],
    enabled: provider.enabled,
    upstream_logout: provider.upstream_logout,
    hide_on_login: provider.hide_on_login,
    /** Register this at the upstream provider. */
    redirect_uri: redirectUri,
    /** Register this at the upstream provider as a post-logout redirect URI (upstream_logout). */
    post_logout_redirect_uri: postLogoutRedirectUri,
    /** The Keycloak realm whose import created it (only that realm's re-imports replace it); null: made here. */
    imported_from: provider.imported_from == null ? null : { kind: provider.imported_from.kind, realm: provider.imported_from.realm },
    created_at: provider.created_at.toISOString(),
    updated_at: provider.updated_at.toISOString(),
  };
}

/** The rules that span fields, for create and update alike (upstreamProblems): the first names the field. */
function check(settings: UpstreamSettings, secrets: { hasSecret: boolean; hasKey: boolean }): void {
  const [problem] = upstreamProblems(settings, secrets);
  if (problem !== undefined) throw invalid(problem.field, problem.code, problem.params);
}

export function upstreamOperations(services: GatehouseServices) {
  const { upstream: directory, audit } = services;
  const show = (provider: UpstreamProvider) => showUpstream(provider, services.upstreamCallbackUrl(provider.alias), services.upstreamLogoutCallbackUrl(provider.alias));

  async function existing(alias: string): Promise<UpstreamProvider> {
    const provider = await directory.get(alias);
    if (provider === undefined) throw notFound('upstream_not_found', alias);
    return provider;
  }

  return {
    show,
    list: () => directory.list(),
    get: existing,

    async create(ctx: OperationContext, body: unknown): Promise<UpstreamProvider> {
      const input = upstreamCreateSchema.parse(body);
      let preset: ReturnType<typeof presetValues> = {};
      try {
        if (input.preset !== undefined) preset = presetValues(input.preset, { tenant: input.tenant, base_url: input.base_url });
      } catch (error) {
        if (error instanceof PresetError) throw invalid(error.field, error.problem);
        throw error;
      }
      const kind = input.kind ?? preset.kind;
      if (kind === undefined) throw invalid('kind', 'kind_required');
      const settings: UpstreamSettings = {
        alias: input.alias,
        kind,
        display_name: input.display_name ?? preset.display_name ?? input.alias,
        icon_url: input.icon_url ?? preset.icon_url ?? null,
        issuer: input.issuer ?? preset.issuer ?? null,
        authorization_endpoint: input.authorization_endpoint ?? preset.authorization_endpoint ?? null,
        token_endpoint: input.token_endpoint ?? preset.token_endpoint ?? null,
        userinfo_endpoint: input.userinfo_endpoint ?? preset.userinfo_endpoint ?? null,
        client_id: input.client_id,
        token_endpoint_auth_method: input.token_endpoint_auth_method ?? preset.token_endpoint_auth_method ?? (input.private_key_jwk !== undefined ? 'private_key_jwt' : input.client_secret === undefined ? 'none' : 'client_secret_basic'),
        scopes: input.scopes ?? preset.scopes ?? (kind === 'oidc' ? ['openid', 'profile', 'email'] : []),
        claims: claimMappingSchema.parse({ ...preset.claims, ...input.claims }),
        role_mappings: input.role_mappings,
        group_mappings: input.group_mappings,
        mapping_mode: input.mapping_mode,
        create_accounts: input.create_accounts,
        link_by_email: input.link_by_email,
        trust_email: input.trust_email,
        allowed_domains: input.allowed_domains,
        home_domains: input.home_domains,
        clients: input.clients,
        enabled: input.enabled,
        upstream_logout: input.upstream_logout,
        hide_on_login: input.hide_on_login,
      };
      check(settings, { hasSecret: input.client_secret !== undefined, hasKey: input.private_key_jwk !== undefined });
      const created = await directory.create(settings, { clientSecret: input.client_secret, privateKeyJwk: input.private_key_jwk });
      await audit.write({ ...ctx, type: 'upstream_provider.created', target: { type: 'upstream_provider', id: created.alias }, details: { kind: created.kind } });
      return created;
    },

    async update(ctx: OperationContext, alias: string, body: unknown): Promise<UpstreamProvider> {
      const patch = upstreamUpdateSchema.parse(body);
      const { client_secret: clientSecret, private_key_jwk: privateKeyJwk, claims, ...rest } = patch;
      // Merged with, and checked against, the provider as stored under its lock (not the list's
      // cached copy): two PATCHes at once each keep their fields and claim mappings.
      const updated = await directory.update(
        alias,
        (current) => {
          const next: UpstreamSettings = { ...current, ...rest, claims: { ...current.claims, ...claims } };
          check(next, { hasSecret: clientSecret !== undefined || current.has_secret, hasKey: privateKeyJwk !== undefined || current.has_private_key });
          return { ...rest, claims: next.claims };
        },
        { clientSecret, privateKeyJwk },
      );
      if (updated === undefined) throw notFound('upstream_not_found', alias);
      await audit.write({ ...ctx, type: 'upstream_provider.updated', target: { type: 'upstream_provider', id: alias }, details: { fields: Object.keys(patch) } });
      return updated;
    },

    async delete(ctx: OperationContext, alias: string): Promise<void> {
      if (!(await directory.remove(alias))) throw notFound('upstream_not_found', alias);
      await audit.write({ ...ctx, type: 'upstream_provider.deleted', target: { type: 'upstream_provider', id: alias } });
    },

    /** A user's links to upstream identities. */
    async links(userId: string) {
      if ((await services.accounts.findById(userId)) === undefined) throw notFound('user_not_found', userId);
      return (await directory.linksOf(userId)).map((link) => ({
        provider: link.provider,
        subject: link.subject,
        label: link.label,
        created_at: link.createdAt.toISOString(),
        last_sign_in_at: link.lastSignInAt?.toISOString() ?? null,
      }));
    },

    async unlink(ctx: OperationContext, userId: string, alias: string, subject: string): Promise<void> {
      if (!(await directory.unlink(userId, alias, subject))) throw notFound('upstream_link_not_found', `${alias}/${subject}`);
      await audit.write({ ...ctx, type: 'user.upstream_unlinked', target: { type: 'user', id: userId }, details: { provider: alias } });
    },
  };
}
