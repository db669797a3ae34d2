import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import type { ClientView, ClientWithSecret } from '../clients/repository.ts';
import { redirectUriProblem, type ApplicationType } from '../clients/redirect-uris.ts';
import { usesSecret } from '../clients/secrets.ts';
import { MAX_SECRET_GRACE_SECONDS } from '../clients/secret-grace.ts';
import { z } from 'zod';
import { ASKED_ONLY_SCOPES } from '../clients/asked-only-scopes.ts';
import { isOidcScope } from '../oidc/claims.ts';
import { clientCreateSchema, clientUpdateSchema, defaultGrantTypes, PLAIN_METADATA, responseTypes } from '../clients/spec.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { pageOf } from './list-query.ts';

/** A client as operators see it (admin API and CLI --json): snake_case, never the secret. */
export function showClient(client: ClientView) {
  const metadata = client.metadata as Record<string, unknown>;
  const optional = (key: string) => metadata[key] ?? null;
  return {
    client_id: client.clientId,
    name: client.displayName,
    type: metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    application_type: applicationType(metadata),
    token_endpoint_auth_method: (metadata.token_endpoint_auth_method as string | undefined) ?? 'client_secret_basic',
    redirect_uris: (metadata.redirect_uris as string[] | undefined) ?? [],
    post_logout_redirect_uris: (metadata.post_logout_redirect_uris as string[] | undefined) ?? [],
    grant_types: (metadata.grant_types as string[] | undefined) ?? [],
    scope: (metadata.scope as string | undefined) ?? null,
    // null: not set (a first-party client with Keycloak's claims then gets profile and email, src/oidc/default-scopes.ts).
    default_scopes: (metadata.default_scopes as string[] | undefined) ?? null,
    apis: [...client.allowedApis],
    default_api: (metadata.default_api as string | undefined) ?? null,
    api_scopes: (metadata.allowed_api_scopes as Array<{ api: string; scopes: string[] }> | undefined) ?? null,
    first_party: client.firstParty,
    allow_password_grant: metadata.allow_password_grant === true,
    token_exchange: (metadata.token_exchange as { apis: string[]; trusted_clients: string[] } | undefined) ?? null,
    admin: client.admin,
    web_origins: [...client.webOrigins],
    require_pkce: metadata.require_pkce === true,
    require_mfa: metadata.require_mfa === true,
    minimal_id_token: metadata.minimal_id_token === true,
    login_uses_default_api: metadata.login_uses_default_api === true,
    token_claims: metadata.token_claims === 'keycloak' ? 'keycloak' : 'gatehouse',
    service_account_roles: (metadata.service_account_roles as string[] | undefined) ?? [],
    userinfo_signed_response_alg: optional('userinfo_signed_response_alg'),
    jwks: optional('jwks'),
    jwks_uri: optional('jwks_uri'),
    logo_uri: optional('logo_uri'),
    client_uri: optional('client_uri'),
    policy_uri: optional('policy_uri'),
    tos_uri: optional('tos_uri'),
    backchannel_logout_uri: optional('backchannel_logout_uri'),
    backchannel_logout_session_required: metadata.backchannel_logout_session_required === true,
    has_secret: client.hasSecret,
    // A rotation with a grace period: the secret before it still authenticates until then (never the secret itself); null: none.
    previous_secret_expires_at: client.previousSecretExpiresAt?.toISOString() ?? null,
    // The Keycloak realm whose import created it (only that realm's re-imports replace it); null: made here.
    imported_from: client.importedFrom === undefined ? null : { kind: client.importedFrom.kind, realm: client.importedFrom.realm },
    metadata,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}

export function showCreated({ client, secret }: ClientWithSecret) {
  return { ...showClient(client), ...(secret === undefined ? {} : { client_secret: secret }) };
}

const applicationType = (metadata: Record<string, unknown>): ApplicationType => (metadata.application_type === 'native' ? 'native' : 'web');

/** Redirect and post-logout redirect URIs against the client's type (web: http(s); native: RFC 8252). */
function checkRedirectUris(metadata: Record<string, unknown>): void {
  const type = applicationType(metadata);
  for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    for (const [index, uri] of ((metadata[field] as string[] | undefined) ?? []).entries()) {
      const problem = redirectUriProblem(uri, type);
      if (problem !== undefined) throw invalid(`${field}.${index}`, problem);
    }
  }
}

/** The password grant hands the client the user's password: confidential first-party clients only. */
function checkPasswordGrant(isPublic: boolean, firstParty: boolean): void {
  if (isPublic) throw invalid('allow_password_grant', 'confidential_only');
  if (!firstParty) throw invalid('allow_password_grant', 'first_party_only');
}

/** POST /clients/{id}/secret's optional body. */
export const secretRotationSchema = z
  .object({
    /** How long the secret before this rotation keeps authenticating (0: not at all, as without a body). */
    grace_seconds: z.number().int().min(0).max(MAX_SECRET_GRACE_SECONDS).optional(),
  })
  .strict();

export type SecretRotationInput = z.infer<typeof secretRotationSchema>;

export function clientOperations(services: GatehouseServices) {
  const { clients, apis, audit, revocation, adminAudience, claimScopes } = services;

  async function checkApis(identifiers: readonly string[], defaultApi: string | undefined, admin: boolean): Promise<void> {
    for (const [index, identifier] of identifiers.entries()) {
      // The admin API's audience comes with `admin: true`, never by listing it.
      if (identifier === adminAudience && !admin) throw invalid(`apis.${index}`, 'admin_api_admin_only');
      if (identifier === adminAudience) continue;
      if ((await apis.find(identifier)) === undefined) throw invalid(`apis.${index}`, 'unknown_api', { identifier });
    }
    if (defaultApi !== undefined && !identifiers.includes(defaultApi)) throw invalid('default_api', 'not_in_apis');
  }

  async function checkExchangeApis(identifiers: readonly string[]): Promise<void> {
    for (const [index, identifier] of identifiers.entries()) {
      if (identifier === adminAudience || (await apis.find(identifier)) === undefined) throw invalid(`token_exchange.apis.${index}`, 'unknown_api', { identifier });
    }
  }

  /** An exchange can only target the client's own APIs (the grant refuses the others): a policy naming another is refused by entry. */
  function checkExchangeWithinApis(policy: unknown, allowedApis: readonly string[]): void {
    const targets = (policy as { apis?: unknown } | undefined)?.apis;
    if (!Array.isArray(targets)) return;
    for (const [index, identifier] of targets.entries()) {
      if (!allowedApis.includes(identifier as string)) throw invalid(`token_exchange.apis.${index}`, 'not_in_apis', { identifier });
    }
  }

  /** Admin clients may always target the admin API; it becomes their default when they name none. */
  function withAdminApi(list: readonly string[], admin: boolean): string[] {
    return admin && !list.includes(adminAudience) ? [...list, adminAudience] : [...list];
  }

  /**
   * Default scopes (src/oidc/default-scopes.ts) must be scopes the client may ask for: in its
   * `scope`, or any scope the provider knows when `scope` is unset. Never openid or offline_access.
   */
  async function checkDefaultScopes(metadata: Record<string, unknown>): Promise<void> {
    const defaults = metadata.default_scopes;
    if (!Array.isArray(defaults)) return;
    const registered = typeof metadata.scope === 'string' ? metadata.scope.split(' ') : undefined;
    // The field as a whole, the scope named in the message: the console edits it as one line.
    for (const scope of defaults as string[]) {
      if (ASKED_ONLY_SCOPES.includes(scope)) throw invalid('default_scopes', 'asked_only_scope', { scope });
      if (registered !== undefined && !registered.includes(scope)) throw invalid('default_scopes', 'not_in_scope', { scope });
      if (registered === undefined && !isOidcScope(scope) && (await claimScopes.get(scope)) === undefined) throw invalid('default_scopes', 'unknown_scope', { scope });
    }
  }

  /** private_key_jwt needs the client's public keys, given one way. */
  function checkKeys(method: unknown, jwks: unknown, jwksUri: unknown): void {
    if (jwks !== undefined && jwksUri !== undefined) throw invalid('jwks_uri', 'jwks_or_jwks_uri');
    if (method === 'private_key_jwt' && jwks === undefined && jwksUri === undefined) throw invalid('jwks', 'jwks_required');
  }

  async function get(clientId: string): Promise<ClientView> {
    const client = await clients.get(clientId);
    if (client === undefined) throw notFound('client_not_found', clientId);
    return client;
  }

  return {
    async create(ctx: OperationContext, body: unknown): Promise<ClientWithSecret> {
      const spec = clientCreateSchema.parse(body);
      const method = spec.token_endpoint_auth_method ?? (spec.type === 'public' ? 'none' : 'client_secret_basic');
      const type = method === 'none' ? 'public' : 'confidential';
      if (spec.type !== undefined && spec.type !== type) {
        throw invalid('token_endpoint_auth_method', spec.type === 'public' ? 'public_uses_none' : 'none_is_public');
      }
      checkKeys(method, spec.jwks, spec.jwks_uri);
      const grantTypes = spec.grant_types ?? defaultGrantTypes(type, spec.redirect_uris);
      if (type === 'public' && grantTypes.includes('client_credentials')) {
        throw invalid('grant_types', 'public_no_client_credentials');
      }
      if (grantTypes.includes('authorization_code') && spec.redirect_uris.length === 0) {
        throw invalid('redirect_uris', 'redirect_uris_required');
      }
      await checkApis(spec.apis, spec.default_api, spec.admin);
      const allowedApis = withAdminApi(spec.apis, spec.admin);
      const defaultApi = spec.default_api ?? allowedApis[0];
      const metadata: Record<string, unknown> = {
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        grant_types: grantTypes,
        response_types: responseTypes(grantTypes),
        token_endpoint_auth_method: method,
      };
      if (spec.application_type === 'native') metadata.application_type = 'native';
      checkRedirectUris(metadata);
      for (const key of PLAIN_METADATA) if (spec[key] !== undefined) metadata[key] = spec[key];
      if (spec.default_scopes !== undefined) metadata.default_scopes = [...new Set(spec.default_scopes)];
      await checkDefaultScopes(metadata);
      if (defaultApi !== undefined) metadata.default_api = defaultApi;
      if (spec.allow_password_grant === true) {
        checkPasswordGrant(type === 'public', spec.first_party);
        metadata.allow_password_grant = true;
      }
      if (spec.token_exchange !== undefined) {
        if (type === 'public') throw invalid('token_exchange', 'confidential_only');
        await checkExchangeApis(spec.token_exchange.apis);
        checkExchangeWithinApis(spec.token_exchange, allowedApis);
        metadata.token_exchange = spec.token_exchange;
      }
      if (spec.api_scopes !== undefined) metadata.allowed_api_scopes = spec.api_scopes;
      const created = await clients.create({
        ...(spec.client_id === undefined ? {} : { clientId: spec.client_id }),
        displayName: spec.name,
        firstParty: spec.first_party,
        admin: spec.admin,
        allowedApis,
        webOrigins: spec.web_origins,
        metadata,
      });
      await audit.write({
        ...ctx,
        type: 'client.created',
        target: { type: 'client', id: created.client.clientId },
        details: { name: spec.name, type, token_endpoint_auth_method: method, admin: spec.admin, first_party: spec.first_party, apis: allowedApis },
      });
      return created;
    },

    list: () => clients.list(),
    /** `q` matches the client id or name. */
    page: async (query: unknown) => pageOf(await clients.list(), query, (client) => [client.clientId, client.displayName]),
    get,

    async update(ctx: OperationContext, clientId: string, body: unknown): Promise<ClientView> {
      const patch = clientUpdateSchema.parse(body);
      const current = await get(clientId);
      const metadata: Record<string, unknown> = { ...current.metadata };
      if (patch.redirect_uris !== undefined) metadata.redirect_uris = patch.redirect_uris;
      if (patch.post_logout_redirect_uris !== undefined) metadata.post_logout_redirect_uris = patch.post_logout_redirect_uris;
      if (patch.application_type === 'native') metadata.application_type = 'native';
      if (patch.application_type === 'web') delete metadata.application_type;
      // Only what this change touches: a stored client's other fields stay editable as they are.
      if (patch.redirect_uris !== undefined || patch.post_logout_redirect_uris !== undefined || patch.application_type !== undefined) checkRedirectUris(metadata);
      if (patch.grant_types !== undefined) {
        if (metadata.token_endpoint_auth_method === 'none' && patch.grant_types.includes('client_credentials')) {
          throw invalid('grant_types', 'public_no_client_credentials');
        }
        metadata.grant_types = patch.grant_types;
        metadata.response_types = responseTypes(patch.grant_types);
      }
      for (const key of PLAIN_METADATA) {
        if (patch[key] === null) delete metadata[key];
        else if (patch[key] !== undefined) metadata[key] = patch[key];
      }
      if (patch.default_scopes === null) delete metadata.default_scopes;
      else if (patch.default_scopes !== undefined) metadata.default_scopes = [...new Set(patch.default_scopes)];
      // Only when the patch touches either: an older record's defaults do not block other edits.
      if (patch.scope !== undefined || patch.default_scopes !== undefined) await checkDefaultScopes(metadata);
      if (patch.token_endpoint_auth_method !== undefined) {
        if (metadata.token_endpoint_auth_method === 'none') throw invalid('token_endpoint_auth_method', 'public_stays_public');
        metadata.token_endpoint_auth_method = patch.token_endpoint_auth_method;
      }
      checkKeys(metadata.token_endpoint_auth_method, metadata.jwks, metadata.jwks_uri);
      if (patch.allow_password_grant !== undefined) metadata.allow_password_grant = patch.allow_password_grant;
      if (metadata.allow_password_grant === true) checkPasswordGrant(metadata.token_endpoint_auth_method === 'none', patch.first_party ?? current.firstParty);
      if (patch.token_exchange === null) delete metadata.token_exchange;
      else if (patch.token_exchange !== undefined) {
        if (metadata.token_endpoint_auth_method === 'none') throw invalid('token_exchange', 'confidential_only');
        await checkExchangeApis(patch.token_exchange.apis);
        metadata.token_exchange = patch.token_exchange;
      }
      if (patch.api_scopes === null) delete metadata.allowed_api_scopes;
      else if (patch.api_scopes !== undefined) metadata.allowed_api_scopes = patch.api_scopes;
      const admin = patch.admin ?? current.admin;
      const requested = (patch.apis ?? current.allowedApis).filter((api) => api !== adminAudience);
      // Only what this change touches: a client left naming an API that is gone (deleted while the
      // client was being written) stays editable field by field; naming the list checks all of it.
      if (patch.apis !== undefined || patch.admin !== undefined) await checkApis(patch.apis ?? requested, undefined, admin);
      const allowedApis = withAdminApi(requested, admin);
      // Only when the patch touches either list: an older record's policy does not block other edits.
      if (patch.apis !== undefined || patch.token_exchange !== undefined) checkExchangeWithinApis(metadata.token_exchange, allowedApis);
      if (patch.default_api === null) delete metadata.default_api;
      else if (patch.default_api !== undefined) {
        if (!allowedApis.includes(patch.default_api)) throw invalid('default_api', 'not_in_apis');
        metadata.default_api = patch.default_api;
      }
      if (typeof metadata.default_api === 'string' && !allowedApis.includes(metadata.default_api)) {
        if (allowedApis[0] === undefined) delete metadata.default_api;
        else metadata.default_api = allowedApis[0];
      } else if (metadata.default_api === undefined && allowedApis[0] !== undefined && patch.apis !== undefined) {
        metadata.default_api = allowedApis[0];
      }
      const updated = await clients.update(clientId, {
        ...(patch.name === undefined ? {} : { displayName: patch.name }),
        ...(patch.first_party === undefined ? {} : { firstParty: patch.first_party }),
        ...(patch.web_origins === undefined ? {} : { webOrigins: patch.web_origins }),
        admin,
        allowedApis,
        metadata,
      });
      if (updated === undefined) throw notFound('client_not_found', clientId);
      await audit.write({ ...ctx, type: 'client.updated', target: { type: 'client', id: clientId }, details: { fields: Object.keys(patch) } });
      return updated;
    },

    /** Deletes the client and revokes its grants and tokens at once. */
    async delete(ctx: OperationContext, clientId: string): Promise<void> {
      if (clientId === CONSOLE_CLIENT_ID) throw invalid('client_id', 'console_client_built_in');
      if (clientId === ACCOUNT_CLIENT_ID) throw invalid('client_id', 'account_client_built_in');
      if (!(await clients.delete(clientId))) throw notFound('client_not_found', clientId);
      const revoked = await revocation.revokeByClientId(clientId);
      // A client created again under the same id is another application: nobody consented to it.
      const consents = await services.consents.removeForClient(clientId);
      // Nor does it introspect for the APIs this one did: a binding left naming the id would pass
      // to whichever client is made under it next.
      const unbound: string[] = [];
      for (const api of await apis.list()) {
        if (api.clientId === clientId && (await apis.setClient(api.identifier, undefined))) unbound.push(api.identifier);
      }
      await audit.write({ ...ctx, type: 'client.deleted', target: { type: 'client', id: clientId }, details: { revoked, consents, ...(unbound.length === 0 ? {} : { apis: unbound }) } });
    },

    /** Revokes every grant and token of the client; the client stays. */
    async revokeTokens(ctx: OperationContext, clientId: string) {
      await get(clientId);
      const revoked = await revocation.revokeByClientId(clientId);
      await audit.write({ ...ctx, type: 'client.tokens_revoked', target: { type: 'client', id: clientId }, details: { revoked } });
      return revoked;
    },

    /**
     * A new secret. With `grace_seconds` the current one keeps authenticating that long
     * (src/clients/previous-secret.ts), replacing any previous one still in its grace; 0 or
     * absent: it stops at once.
     */
    async rotateSecret(ctx: OperationContext, clientId: string, body: unknown = {}): Promise<ClientWithSecret> {
      const input: SecretRotationInput = secretRotationSchema.parse(body ?? {});
      const current = await get(clientId);
      if (!usesSecret(current.metadata)) throw invalid('client_id', 'no_client_secret');
      const grace = input.grace_seconds ?? 0;
      const previousUntil = grace > 0 ? new Date(services.clock.now() + grace * 1000) : undefined;
      const rotated = await clients.rotateSecret(clientId, previousUntil);
      if (rotated === undefined) throw notFound('client_not_found', clientId);
      await audit.write({ ...ctx, type: 'client.secret_rotated', target: { type: 'client', id: clientId }, ...(previousUntil === undefined ? {} : { details: { previousSecretExpiresAt: previousUntil.toISOString() } }) });
      return rotated;
    },
  };
}

export type ClientOperations = ReturnType<typeof clientOperations>;
