import type { ClaimScope } from '../claims/spec.ts';
import { claimScopeCreateSchema, claimScopeUpdateSchema } from '../claims/spec.ts';
import type { GatehouseServices } from '../services.ts';
import type { OperationContext } from './context.ts';
import { notFound } from './errors.ts';

export { showClaimScope, claimScopeCreateSchema, claimScopeUpdateSchema } from '../claims/spec.ts';

/** A client's `scope` without `name`; undefined when it does not list it. */
function scopeWithout(scope: unknown, name: string): string | undefined {
  if (typeof scope !== 'string') return undefined;
  const words = scope.split(' ').filter(Boolean);
  return words.includes(name) ? words.filter((word) => word !== name).join(' ') : undefined;
}

/** Claim scopes (src/claims/): the admin API, the CLI and the console. */
export function claimScopeOperations(services: GatehouseServices) {
  const { claimScopes, clients, audit } = services;
  const target = (name: string) => ({ type: 'claim_scope', id: name });

  async function get(name: string): Promise<ClaimScope> {
    const scope = await claimScopes.get(name);
    if (scope === undefined) throw notFound('claim_scope_not_found', name);
    return scope;
  }

  return {
    list: () => claimScopes.list(),
    get,
    async create(ctx: OperationContext, body: unknown): Promise<ClaimScope> {
      const input = claimScopeCreateSchema.parse(body);
      const scope = await claimScopes.create(input);
      await audit.write({ ...ctx, type: 'claim_scope.created', target: target(scope.name), details: { claims: scope.mappers.map((mapper) => mapper.claim) } });
      return scope;
    },
    async update(ctx: OperationContext, name: string, body: unknown): Promise<ClaimScope> {
      const patch = claimScopeUpdateSchema.parse(body);
      const scope = await claimScopes.update(name, patch);
      if (scope === undefined) throw notFound('claim_scope_not_found', name);
      await audit.write({ ...ctx, type: 'claim_scope.updated', target: target(name), details: { fields: Object.keys(patch) } });
      return scope;
    },
    /**
     * Takes the scope off every client whose `scope` (or `default_scopes`) lists it first (the provider refuses a client
     * naming a scope it does not know), then deletes it.
     */
    async delete(ctx: OperationContext, name: string): Promise<void> {
      await get(name);
      const detached: string[] = [];
      for (const client of await clients.list()) {
        const scope = scopeWithout(client.metadata.scope, name);
        const defaults = client.metadata.default_scopes;
        const isDefault = Array.isArray(defaults) && defaults.includes(name);
        if (scope === undefined && !isDefault) continue;
        const metadata: Record<string, unknown> = { ...client.metadata };
        if (scope === '') delete metadata.scope;
        else if (scope !== undefined) metadata.scope = scope;
        // Nor among its default scopes (src/oidc/default-scopes.ts).
        if (isDefault) metadata.default_scopes = (defaults as unknown[]).filter((item) => item !== name);
        if ((await clients.update(client.clientId, { metadata })) !== undefined) detached.push(client.clientId);
      }
      if (!(await claimScopes.remove(name))) throw notFound('claim_scope_not_found', name);
      await audit.write({ ...ctx, type: 'claim_scope.deleted', target: target(name), details: detached.length === 0 ? {} : { clients: detached } });
    },
  };
}

export type ClaimScopeOperations = ReturnType<typeof claimScopeOperations>;
