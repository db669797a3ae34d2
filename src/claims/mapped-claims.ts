import type { CustomAttributes } from '../accounts/custom-attributes.ts';
import type { ClaimMapper, ClaimScope } from './spec.ts';

export type ClaimUse = 'id_token' | 'userinfo' | 'access_token';

/**
 * The claim scopes as the protocol layer uses them, built once per provider (the provider is
 * rebuilt when they change): which claims each scope releases, and the claims of a user's
 * attributes for one token.
 */
export interface ClaimMapping {
  /** Scope → the claims it releases, for the provider's `claims` configuration. */
  readonly scopeClaims: Readonly<Record<string, readonly string[]>>;
  readonly scopeNames: readonly string[];
  isClaimScope(scope: string): boolean;
  /** Whether any of `scopes` has a mapper into `use` (nothing to compute otherwise). */
  reaches(use: ClaimUse, scopes: Iterable<string>): boolean;
  /** The claims of `use` that `scopes` map from the user's attributes (and the hardcoded ones). */
  claimsFor(use: ClaimUse, scopes: Iterable<string>, attributes: CustomAttributes | undefined): Record<string, unknown>;
}

function goesInto(mapper: ClaimMapper, use: ClaimUse): boolean {
  return use === 'id_token' ? mapper.idToken : use === 'userinfo' ? mapper.userinfo : mapper.accessToken;
}

function valueOf(mapper: ClaimMapper, attributes: CustomAttributes | undefined): unknown {
  if (mapper.type === 'hardcoded') return mapper.value;
  const value = attributes?.[mapper.attribute!];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return mapper.multivalued ? [value] : value;
  return mapper.multivalued ? [...value] : value[0];
}

export function claimMapping(scopes: readonly ClaimScope[]): ClaimMapping {
  const byName = new Map(scopes.map((scope) => [scope.name, scope]));
  const scopeClaims = Object.fromEntries(scopes.map((scope) => [scope.name, scope.mappers.map((mapper) => mapper.claim)]));
  const scopesOf = function* (names: Iterable<string>) {
    for (const name of names) {
      const scope = byName.get(name);
      if (scope !== undefined) yield scope;
    }
  };
  return {
    scopeClaims,
    scopeNames: scopes.map((scope) => scope.name),
    isClaimScope: (scope) => byName.has(scope),
    reaches(use, names) {
      if (byName.size === 0) return false;
      for (const scope of scopesOf(names)) if (scope.mappers.some((mapper) => goesInto(mapper, use))) return true;
      return false;
    },
    claimsFor(use, names, attributes) {
      const claims: Record<string, unknown> = {};
      for (const scope of scopesOf(names)) {
        for (const mapper of scope.mappers) {
          if (!goesInto(mapper, use)) continue;
          const value = valueOf(mapper, attributes);
          if (value !== undefined) claims[mapper.claim] = value;
        }
      }
      return claims;
    },
  };
}

/** No claim scopes: what a provider built without them uses. */
export const NO_CLAIM_SCOPES = claimMapping([]);

/** A token's scope parameter as a list. */
export function scopeWords(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}
