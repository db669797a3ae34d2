import { z } from 'zod';
import { API_TOKEN_TTL, apiFields, type Api } from '../apis/registry.ts';
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
  .strict();

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
    async delete(ctx: OperationContext, identifier: string): Promise<void> {
      guard(identifier);
      if (!(await apis.remove(identifier))) throw notFound('api_not_found', identifier);
      await audit.write({ ...ctx, type: 'api.deleted', target: target(identifier) });
    },
  };
}
