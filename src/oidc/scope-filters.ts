import type Provider from 'oidc-provider';

/** Distinct scope values whose filters are kept; beyond this many, a new one is merged as the library does. */
export const SCOPE_FILTERS_KEPT = 256;

type ClaimsClass = Provider['Claims'];
type ClaimsFilter = Record<string, unknown>;
type Available = Record<string, unknown>;

/** A scope value's filter, made by the library's own `scope`, and the claims it releases once learnt. */
interface KeptFilter {
  /** Frozen: handed to every request with this scope value until the request changes it (then it gets a copy). */
  readonly filter: Readonly<ClaimsFilter>;
  /** The names the library's `result` releases for this filter, in its order; undefined until learnt, null: never taken (see `learn`). */
  include: readonly string[] | null | undefined;
}

/** What a Claims instance of the provider's class holds (lib/helpers/claims.js), as far as this module reads it. */
interface ClaimsState {
  filter: ClaimsFilter;
  readonly available: Available;
  readonly client: { readonly subjectType?: string };
}

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
 * from `provider.Claims`) merges a scope value once, by the library's own `scope`, keeps the
 * filter it made (frozen), and starts later requests with the same value from it; a request's
 * `mask` or `rejected` that changes anything gets the request its own copy first, which the
 * library's methods then change as before. The configuration is read once per provider build — a
 * change of the claim scopes (src/claims/) builds a new provider, so its filters are made afresh.
 * Filters whose claims carry objects (a configuration written as `{ claim: {...} }`, which
 * Gatehouse's is not: its scopes list names) would share those objects between requests, so such
 * a scope value is merged anew every time, as are values after the first SCOPE_FILTERS_KEPT (a
 * client asking for ever new scope combinations costs what it cost before, and no more memory).
 * A filter already set (`scope` after `mask`) goes to the library, which refuses it.
 *
 * `result` for a request whose filter is still its scope value's kept one (the common userinfo
 * call and ID token: no claims parameter, nothing rejected) picks the account's claims by the list
 * of names the library's own `result` released for that filter, learnt once per kept value from
 * the library (`learn`), instead of walking the 22-entry filter and the supported claims every
 * time (3.4–5.4 µs of a userinfo request, perf23u). Whatever else the library's `result` does —
 * pairwise subjects, aggregated and distributed claims (`_claim_names`) — goes to the library.
 */
export function reuseScopeFilters(provider: Provider): { readonly kept: () => number } {
  const Library: ClaimsClass = provider.Claims;
  const filters = new Map<string, KeptFilter | null>();

  /** The names the library releases for a kept filter: its own `result` over an account that has every one of them. */
  const learn = async (kept: KeptFilter, client: unknown): Promise<readonly string[] | null> => {
    const names = Object.keys(kept.filter);
    // An account's own `_claim_names` / `_claim_sources` would be the library's aggregated claims, not a claim.
    if (names.includes('_claim_names') || names.includes('_claim_sources')) return null;
    const probe = new Library(Object.fromEntries(names.map((name) => [name, true])), { client } as ConstructorParameters<ClaimsClass>[1]);
    (probe as unknown as ClaimsState).filter = kept.filter as ClaimsFilter;
    return Object.keys(await probe.result());
  };

  class ClaimsWithKeptFilters extends Library {
    /** The kept filter this request's `filter` still is, unchanged; undefined once it is the request's own. */
    #kept: KeptFilter | undefined;

    override scope(value = ''): this {
      const self = this as unknown as ClaimsState;
      let kept = filters.get(value);
      if (kept === null || Object.keys(self.filter).length !== 0) {
        super.scope(value);
        return this;
      }
      if (kept === undefined) {
        super.scope(value);
        if (filters.size >= SCOPE_FILTERS_KEPT) return this;
        kept = onlyNames(self.filter) ? { filter: Object.freeze({ ...self.filter }), include: undefined } : null;
        filters.set(value, kept);
        if (kept === null) return this;
      }
      self.filter = kept.filter as ClaimsFilter;
      this.#kept = kept;
      return this;
    }

    override mask(value?: unknown): void {
      if (this.#kept !== undefined && changesFilter(value)) this.#ownFilter();
      super.mask(value as Parameters<InstanceType<ClaimsClass>['mask']>[0]);
    }

    override rejected(value: string[] = []): void {
      if (this.#kept !== undefined && value.length !== 0) this.#ownFilter();
      super.rejected(value);
    }

    override async result(): Promise<Record<string, unknown>> {
      const kept = this.#kept;
      const self = this as unknown as ClaimsState;
      const { available, client } = self;
      if (kept === undefined || self.filter !== kept.filter || client.subjectType === 'pairwise' || ('_claim_names' in available && '_claim_sources' in available)) {
        return super.result();
      }
      if (kept.include === undefined) kept.include = await learn(kept, client);
      if (kept.include === null) return super.result();
      const claims: Record<string, unknown> = {};
      for (const name of kept.include) if (Object.hasOwn(available, name)) claims[name] = available[name];
      return claims;
    }

    /** The request's own copy of its kept filter, before `mask` or `rejected` changes it. */
    #ownFilter(): void {
      const self = this as unknown as ClaimsState;
      self.filter = { ...self.filter };
      this.#kept = undefined;
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

/** Whether the library's `mask(value)` (lib/helpers/_/merge.js) could change a filter: anything but nothing or an empty object. */
function changesFilter(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'object') return true;
  for (const _ in value) return true;
  return false;
}
