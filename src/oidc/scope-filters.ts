import type Provider from 'oidc-provider';

/** Distinct scope values whose filters are kept; beyond this many, a new one is merged as the library does. */
export const SCOPE_FILTERS_KEPT = 256;

type ClaimsClass = Provider['Claims'];
type ClaimsFilter = Record<string, unknown>;

/**
 * oidc-provider picks the claims an ID token or a userinfo answer releases with its Claims class
 * (lib/helpers/claims.js): `scope(value)` merges, entry by entry, the `claims` configuration of
 * every scope in `value` into an empty filter (lib/helpers/_/merge.js: `Object.entries` of each),
 * then `mask` and `rejected` change that filter for the request and `result` picks by it. The
 * merge depends on the scope value and the configuration alone, and a token's granted OpenID
 * scopes take few values (`openid profile email` on every userinfo call of an app) — yet it ran
 * for 22 claims on every request (≈ 4 µs of a userinfo request, docs/PERFORMANCE.md, perf22u).
 *
 * This provider's Claims class (each Provider has its own; userinfo and the ID token build theirs
 * from `provider.Claims`) merges a scope value once, by the library's own `scope`, keeps a copy
 * of the filter it made, and starts later requests with the same value from a copy of that. The
 * configuration is read once per provider build — a change of the claim scopes (src/claims/) builds
 * a new provider, so its filters are made afresh. Filters whose claims carry objects (a
 * configuration written as `{ claim: {...} }`, which Gatehouse's is not: its scopes list names)
 * would share those objects between requests, so such a scope value is merged anew every time, as
 * are values after the first SCOPE_FILTERS_KEPT (a client asking for ever new scope combinations
 * costs what it cost before, and no more memory). A filter already set (`scope` after `mask`)
 * goes to the library, which refuses it.
 */
export function reuseScopeFilters(provider: Provider): { readonly kept: () => number } {
  const Library: ClaimsClass = provider.Claims;
  const filters = new Map<string, ClaimsFilter | null>();
  class ClaimsWithKeptFilters extends Library {
    override scope(value = ''): this {
      const self = this as unknown as { filter: ClaimsFilter };
      const kept = filters.get(value);
      if (kept === undefined || kept === null || Object.keys(self.filter).length !== 0) {
        super.scope(value);
        if (kept === undefined && filters.size < SCOPE_FILTERS_KEPT) filters.set(value, onlyNames(self.filter) ? { ...self.filter } : null);
        return this;
      }
      self.filter = { ...kept };
      return this;
    }
  }
  Object.defineProperty(provider, 'Claims', { value: ClaimsWithKeptFilters, configurable: true, writable: true });
  return { kept: () => filters.size };
}

/** Whether every claim of a filter is asked for by name alone (`null`), with nothing nested to share. */
function onlyNames(filter: ClaimsFilter): boolean {
  for (const key in filter) if (filter[key] !== null) return false;
  return true;
}
