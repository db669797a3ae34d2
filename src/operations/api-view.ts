import type { Api } from '../apis/registry.ts';

/** An API as the admin API and the CLI show it (apart from src/operations/apis.ts: the CLI shows one without loading the store). */
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
