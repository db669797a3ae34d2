import { TOKEN_CLAIMS, type Api } from '../apis/registry.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { z } from 'zod';

export const apiCreateSchema = z
  .object({
    identifier: z.string(),
    name: z.string().optional(),
    scopes: z.array(z.string()).default([]),
    format: z.enum(['jwt', 'opaque']).default('jwt'),
    alg: z.enum(['RS256', 'ES256']).default('RS256'),
    access_token_ttl: z.number().int().min(30).max(86_400).default(600),
    include_roles: z.boolean().default(false),
    include_groups: z.boolean().default(false),
    token_claims: z.enum(TOKEN_CLAIMS).default('gatehouse'),
  })
  .strict();

export const apiUpdateSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    scopes: z.array(z.string()).optional(),
    format: z.enum(['jwt', 'opaque']).optional(),
    alg: z.enum(['RS256', 'ES256']).optional(),
    access_token_ttl: z.number().int().min(30).max(86_400).optional(),
    include_roles: z.boolean().optional(),
    include_groups: z.boolean().optional(),
    token_claims: z.enum(TOKEN_CLAIMS).optional(),
  })
  .strict();

export function showApi(api: Api) {
  return {
    identifier: api.identifier,
    name: api.name,
    scopes: [...api.scopes],
    format: api.format,
    alg: api.alg,
    access_token_ttl: api.accessTokenTtl,
    include_roles: api.includeRoles,
    include_groups: api.includeGroups,
    token_claims: api.tokenClaims,
    client_id: api.clientId ?? null,
  };
}

export function apiOperations(services: GatehouseServices) {
  const { apis, audit, adminAudience } = services;
  const target = (id: string) => ({ type: 'api', id });
  const guard = (identifier: string) => {
    if (identifier === adminAudience) throw invalid('identifier', 'the admin API is built in and cannot be changed');
  };
  return {
    list: () => apis.list(),
    async create(ctx: OperationContext, body: unknown): Promise<Api> {
      const input = apiCreateSchema.parse(body);
      guard(input.identifier);
      const api = await apis.create({
        identifier: input.identifier,
        ...(input.name === undefined ? {} : { name: input.name }),
        scopes: input.scopes,
        format: input.format,
        alg: input.alg,
        accessTokenTtl: input.access_token_ttl,
        includeRoles: input.include_roles,
        includeGroups: input.include_groups,
        tokenClaims: input.token_claims,
      });
      await audit.record({ ...ctx, type: 'api.created', target: target(api.identifier), details: { scopes: api.scopes } });
      return api;
    },
    async update(ctx: OperationContext, identifier: string, body: unknown): Promise<Api> {
      const patch = apiUpdateSchema.parse(body);
      guard(identifier);
      const api = await apis.update(identifier, {
        name: patch.name,
        scopes: patch.scopes,
        format: patch.format,
        alg: patch.alg,
        accessTokenTtl: patch.access_token_ttl,
        includeRoles: patch.include_roles,
        includeGroups: patch.include_groups,
        tokenClaims: patch.token_claims,
      });
      if (api === undefined) throw notFound('API', identifier);
      await audit.record({ ...ctx, type: 'api.updated', target: target(identifier), details: { fields: Object.keys(patch) } });
      return api;
    },
    async delete(ctx: OperationContext, identifier: string): Promise<void> {
      guard(identifier);
      if (!(await apis.remove(identifier))) throw notFound('API', identifier);
      await audit.record({ ...ctx, type: 'api.deleted', target: target(identifier) });
    },
  };
}
