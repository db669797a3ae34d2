import type { ClientView, ClientWithSecret } from '../clients/repository.ts';
import { clientCreateSchema, clientUpdateSchema, defaultGrantTypes, responseTypes } from '../clients/spec.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid, notFound } from './errors.ts';

/** A client as operators see it (admin API and CLI --json): snake_case, never the secret. */
export function showClient(client: ClientView) {
  const metadata = client.metadata as Record<string, unknown>;
  return {
    client_id: client.clientId,
    name: client.displayName,
    type: metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    redirect_uris: (metadata.redirect_uris as string[] | undefined) ?? [],
    post_logout_redirect_uris: (metadata.post_logout_redirect_uris as string[] | undefined) ?? [],
    grant_types: (metadata.grant_types as string[] | undefined) ?? [],
    scope: (metadata.scope as string | undefined) ?? null,
    apis: [...client.allowedApis],
    default_api: (metadata.default_api as string | undefined) ?? null,
    api_scopes: (metadata.allowed_api_scopes as Array<{ api: string; scopes: string[] }> | undefined) ?? null,
    first_party: client.firstParty,
    allow_password_grant: metadata.allow_password_grant === true,
    token_exchange: (metadata.token_exchange as { apis: string[]; trusted_clients: string[] } | undefined) ?? null,
    admin: client.admin,
    web_origins: [...client.webOrigins],
    has_secret: client.hasSecret,
    metadata,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}

export function showCreated({ client, secret }: ClientWithSecret) {
  return { ...showClient(client), ...(secret === undefined ? {} : { client_secret: secret }) };
}

/** The password grant hands the client the user's password: confidential first-party clients only. */
function checkPasswordGrant(isPublic: boolean, firstParty: boolean): void {
  if (isPublic) throw invalid('allow_password_grant', 'is for confidential clients only');
  if (!firstParty) throw invalid('allow_password_grant', 'is for first-party clients only (set first_party: true)');
}

export function clientOperations(services: GatehouseServices) {
  const { clients, apis, audit, revocation, adminAudience } = services;

  async function checkApis(identifiers: readonly string[], defaultApi: string | undefined, admin: boolean): Promise<void> {
    for (const [index, identifier] of identifiers.entries()) {
      // The admin API's audience comes with `admin: true`, never by listing it.
      if (identifier === adminAudience && !admin) throw invalid(`apis.${index}`, 'the admin API is only for admin clients (set admin: true)');
      if (identifier === adminAudience) continue;
      if ((await apis.find(identifier)) === undefined) throw invalid(`apis.${index}`, `no API with identifier ${identifier}`);
    }
    if (defaultApi !== undefined && !identifiers.includes(defaultApi)) throw invalid('default_api', 'must be one of apis');
  }

  async function checkExchangeApis(identifiers: readonly string[]): Promise<void> {
    for (const [index, identifier] of identifiers.entries()) {
      if (identifier === adminAudience || (await apis.find(identifier)) === undefined) throw invalid(`token_exchange.apis.${index}`, `no API with identifier ${identifier}`);
    }
  }

  /** Admin clients may always target the admin API; it becomes their default when they name none. */
  function withAdminApi(list: readonly string[], admin: boolean): string[] {
    return admin && !list.includes(adminAudience) ? [...list, adminAudience] : [...list];
  }

  async function get(clientId: string): Promise<ClientView> {
    const client = await clients.get(clientId);
    if (client === undefined) throw notFound('client', clientId);
    return client;
  }

  return {
    async create(ctx: OperationContext, body: unknown): Promise<ClientWithSecret> {
      const spec = clientCreateSchema.parse(body);
      const grantTypes = spec.grant_types ?? defaultGrantTypes(spec.type, spec.redirect_uris);
      if (spec.type === 'public' && grantTypes.includes('client_credentials')) {
        throw invalid('grant_types', 'a public client cannot use client_credentials');
      }
      if (grantTypes.includes('authorization_code') && spec.redirect_uris.length === 0) {
        throw invalid('redirect_uris', 'required for authorization_code');
      }
      await checkApis(spec.apis, spec.default_api, spec.admin);
      const allowedApis = withAdminApi(spec.apis, spec.admin);
      const defaultApi = spec.default_api ?? allowedApis[0];
      const metadata: Record<string, unknown> = {
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        grant_types: grantTypes,
        response_types: responseTypes(grantTypes),
        token_endpoint_auth_method: spec.type === 'public' ? 'none' : 'client_secret_basic',
      };
      if (spec.scope !== undefined) metadata.scope = spec.scope;
      if (defaultApi !== undefined) metadata.default_api = defaultApi;
      if (spec.require_pkce !== undefined) metadata.require_pkce = spec.require_pkce;
      if (spec.allow_password_grant === true) {
        checkPasswordGrant(spec.type === 'public', spec.first_party);
        metadata.allow_password_grant = true;
      }
      if (spec.token_exchange !== undefined) {
        if (spec.type === 'public') throw invalid('token_exchange', 'is for confidential clients only');
        await checkExchangeApis(spec.token_exchange.apis);
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
      await audit.record({
        ...ctx,
        type: 'client.created',
        target: { type: 'client', id: created.client.clientId },
        details: { name: spec.name, type: spec.type, admin: spec.admin, first_party: spec.first_party, apis: allowedApis },
      });
      return created;
    },

    list: () => clients.list(),
    get,

    async update(ctx: OperationContext, clientId: string, body: unknown): Promise<ClientView> {
      const patch = clientUpdateSchema.parse(body);
      const current = await get(clientId);
      const metadata: Record<string, unknown> = { ...current.metadata };
      if (patch.redirect_uris !== undefined) metadata.redirect_uris = patch.redirect_uris;
      if (patch.post_logout_redirect_uris !== undefined) metadata.post_logout_redirect_uris = patch.post_logout_redirect_uris;
      if (patch.grant_types !== undefined) {
        if (metadata.token_endpoint_auth_method === 'none' && patch.grant_types.includes('client_credentials')) {
          throw invalid('grant_types', 'a public client cannot use client_credentials');
        }
        metadata.grant_types = patch.grant_types;
        metadata.response_types = responseTypes(patch.grant_types);
      }
      if (patch.scope === null) delete metadata.scope;
      else if (patch.scope !== undefined) metadata.scope = patch.scope;
      if (patch.require_pkce !== undefined) metadata.require_pkce = patch.require_pkce;
      if (patch.allow_password_grant !== undefined) metadata.allow_password_grant = patch.allow_password_grant;
      if (metadata.allow_password_grant === true) checkPasswordGrant(metadata.token_endpoint_auth_method === 'none', patch.first_party ?? current.firstParty);
      if (patch.token_exchange === null) delete metadata.token_exchange;
      else if (patch.token_exchange !== undefined) {
        if (metadata.token_endpoint_auth_method === 'none') throw invalid('token_exchange', 'is for confidential clients only');
        await checkExchangeApis(patch.token_exchange.apis);
        metadata.token_exchange = patch.token_exchange;
      }
      if (patch.api_scopes === null) delete metadata.allowed_api_scopes;
      else if (patch.api_scopes !== undefined) metadata.allowed_api_scopes = patch.api_scopes;
      const admin = patch.admin ?? current.admin;
      const requested = (patch.apis ?? current.allowedApis).filter((api) => api !== adminAudience);
      await checkApis(patch.apis ?? requested, undefined, admin);
      const allowedApis = withAdminApi(requested, admin);
      if (patch.default_api === null) delete metadata.default_api;
      else if (patch.default_api !== undefined) {
        if (!allowedApis.includes(patch.default_api)) throw invalid('default_api', 'must be one of apis');
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
      if (updated === undefined) throw notFound('client', clientId);
      await audit.record({ ...ctx, type: 'client.updated', target: { type: 'client', id: clientId }, details: { fields: Object.keys(patch) } });
      return updated;
    },

    /** Deletes the client and revokes its grants and tokens at once. */
    async delete(ctx: OperationContext, clientId: string): Promise<void> {
      if (!(await clients.delete(clientId))) throw notFound('client', clientId);
      const revoked = await revocation.revokeByClientId(clientId);
      await audit.record({ ...ctx, type: 'client.deleted', target: { type: 'client', id: clientId }, details: { revoked } });
    },

    async rotateSecret(ctx: OperationContext, clientId: string): Promise<ClientWithSecret> {
      const current = await get(clientId);
      if (!current.hasSecret) throw invalid('client_id', 'this client does not authenticate with a secret');
      const rotated = await clients.rotateSecret(clientId);
      if (rotated === undefined) throw notFound('client', clientId);
      await audit.record({ ...ctx, type: 'client.secret_rotated', target: { type: 'client', id: clientId } });
      return rotated;
    },
  };
}

export type ClientOperations = ReturnType<typeof clientOperations>;
