import { z } from 'zod';
import { says } from '../errors/problems.ts';
import { API_TOKEN_TTL, apiFields, type Api } from '../apis/registry.ts';
import type { ClientPatch, ClientView } from '../clients/repository.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { pageOf } from './list-query.ts';

export { showApi } from './api-view.ts';

const clientId = apiFields.clientId.describe('the client the API uses to call introspection (and revocation)');

export const apiCreateSchema = z
  .object({
    identifier: apiFields.identifier,
    name: apiFields.name.optional(),
    scopes: apiFields.scopes.default([]),
    format: apiFields.format.default('jwt'),
    alg: apiFields.alg.default('RS256'),
    access_token_ttl: apiFields.accessTokenTtl.default(API_TOKEN_TTL.default),
    include_roles: z.boolean().default(false),
    include_groups: z.boolean().default(false),
    client_id: clientId.optional(),
    token_claims: apiFields.tokenClaims.default('gatehouse'),
  })
  .strict();

export const apiUpdateSchema = z
  .object({
    name: apiFields.name.optional(),
    scopes: apiFields.scopes.optional(),
    format: apiFields.format.optional(),
    alg: apiFields.alg.optional(),
    access_token_ttl: apiFields.accessTokenTtl.optional(),
    include_roles: z.boolean().optional(),
    include_groups: z.boolean().optional(),
    client_id: clientId.nullable().optional(),
    token_claims: apiFields.tokenClaims.optional(),
  })
  .strict()
  // As for clients: a patch naming no field is refused, not audited as an update of nothing.
  .refine((patch) => Object.keys(patch).length > 0, { ...says('nothing_to_change'), when: (payload) => payload.issues.length === 0 })
  .meta({ minProperties: 1 });

/** What a client keeps once an API is gone: undefined when it names the API nowhere. */
function withoutApi(client: ClientView, identifier: string): Required<Pick<ClientPatch, 'allowedApis' | 'metadata'>> | undefined {
  const metadata: Record<string, unknown> = { ...client.metadata };
  const allowedApis = client.allowedApis.filter((api) => api !== identifier);
  let touched = allowedApis.length !== client.allowedApis.length;
  if (metadata.default_api === identifier) {
    touched = true;
    if (allowedApis[0] === undefined) delete metadata.default_api;
    else metadata.default_api = allowedApis[0];
  }
  const limits = metadata.allowed_api_scopes;
  if (Array.isArray(limits) && limits.some((limit) => (limit as { api?: unknown }).api === identifier)) {
    touched = true;
    const kept = limits.filter((limit) => (limit as { api?: unknown }).api !== identifier);
    if (kept.length === 0) delete metadata.allowed_api_scopes;
    else metadata.allowed_api_scopes = kept;
  }
  const policy = metadata.token_exchange as { apis?: unknown } | undefined;
  if (Array.isArray(policy?.apis) && policy.apis.includes(identifier)) {
    touched = true;
    const kept = policy.apis.filter((api) => api !== identifier);
    if (kept.length === 0) delete metadata.token_exchange;
    else metadata.token_exchange = { ...policy, apis: kept };
  }
  return touched ? { allowedApis, metadata } : undefined;
}

export function apiOperations(services: GatehouseServices) {
  const { apis, clients, audit, adminAudience } = services;
  const target = (id: string) => ({ type: 'api', id });
  const guard = (identifier: string) => {
    if (identifier === adminAudience) throw invalid('identifier', 'admin_api_built_in');
  };
  const checkClient = async (id: string | null | undefined) => {
    if (typeof id === 'string' && (await clients.get(id)) === undefined) throw invalid('client_id', 'unknown_client', { client_id: id });
  };

  async function get(identifier: string): Promise<Api> {
    const api = await apis.find(identifier);
    if (api === undefined) throw notFound('api_not_found', identifier);
    return api;
  }

  return {
    list: () => apis.list(),
    /** `q` matches the identifier or name. */
    page: async (query: unknown) => pageOf(await apis.list(), query, (api) => [api.identifier, api.name]),
    get,
    async create(ctx: OperationContext, body: unknown): Promise<Api> {
      const input = apiCreateSchema.parse(body);
      guard(input.identifier);
      await checkClient(input.client_id);
      const api = await apis.create({
        identifier: input.identifier,
        ...(input.name === undefined ? {} : { name: input.name }),
        scopes: input.scopes,
        format: input.format,
        alg: input.alg,
        accessTokenTtl: input.access_token_ttl,
        includeRoles: input.include_roles,
        includeGroups: input.include_groups,
        ...(input.client_id === undefined ? {} : { clientId: input.client_id }),
        tokenClaims: input.token_claims,
      });
      await audit.write({ ...ctx, type: 'api.created', target: target(api.identifier), details: { scopes: api.scopes } });
      return api;
    },
    async update(ctx: OperationContext, identifier: string, body: unknown): Promise<Api> {
      const patch = apiUpdateSchema.parse(body);
      guard(identifier);
      await checkClient(patch.client_id);
      const api = await apis.update(identifier, {
        name: patch.name,
        scopes: patch.scopes,
        format: patch.format,
        alg: patch.alg,
        accessTokenTtl: patch.access_token_ttl,
        includeRoles: patch.include_roles,
        includeGroups: patch.include_groups,
        clientId: patch.client_id,
        tokenClaims: patch.token_claims,
      });
      if (api === undefined) throw notFound('api_not_found', identifier);
      await audit.write({ ...ctx, type: 'api.updated', target: target(identifier), details: { fields: Object.keys(patch) } });
      return api;
    },
    /**
     * Deletes the API and takes it off every client that names it — its APIs, default API, scope
     * limits and token exchange policy — as Auth0 removes an API's client grants with it: a client
     * left naming an API that is gone could not be edited field by field any more, and an API made
     * again under the same identifier is another API, which no client was given.
     */
    async delete(ctx: OperationContext, identifier: string): Promise<void> {
      guard(identifier);
      if (!(await apis.remove(identifier))) throw notFound('api_not_found', identifier);
      const detached: string[] = [];
      for (const client of await clients.list()) {
        const change = withoutApi(client, identifier);
        if (change === undefined) continue;
        if ((await clients.update(client.clientId, change)) !== undefined) detached.push(client.clientId);
      }
      await audit.write({ ...ctx, type: 'api.deleted', target: target(identifier), details: detached.length === 0 ? {} : { clients: detached } });
    },
  };
}
