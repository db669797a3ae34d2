import type { CustomAttributes } from '../accounts/custom-attributes.ts';
import { claimNameProblem, claimPath, setClaim, topClaim, withoutClaims, type ClaimPath } from './claim-path.ts';
import { convert } from './json-types.ts';
import type { ClaimMapper, ClaimScope } from './spec.ts';

/**
 * Where a claim goes. `access_token_record`: what an access token's record keeps (its `extra`),
 * the claims of its JWT and of its introspection answer together; each gives up the other's own
 * (`strip`).
 */
export type ClaimUse = 'id_token' | 'userinfo' | 'access_token' | 'introspection' | 'access_token_record';

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
  /** The claims of `use` that `scopes` map from the user's attributes (and the hardcoded ones); nested claims (`org.unit`) as objects. */
  claimsFor(use: ClaimUse, scopes: Iterable<string>, attributes: CustomAttributes | undefined): Record<string, unknown>;
  /**
   * An access token record's claims as the JWT (`access_token`) or the introspection answer
   * (`introspection`) shows them: without the mapped claims that go only to the other. `claims`
   * itself when nothing goes (never changed: a copy when something does).
   */
  strip(use: 'access_token' | 'introspection', claims: Record<string, unknown>): Record<string, unknown>;
  /** Whether some mapper goes into one of the two only (strip has work to do). */
  strips(use: 'access_token' | 'introspection'): boolean;
}

function goesInto(mapper: ClaimMapper, use: ClaimUse): boolean {
  switch (use) {
    case 'id_token':
      return mapper.idToken;
    case 'userinfo':
      return mapper.userinfo;
    case 'access_token':
      return mapper.accessToken;
    case 'introspection':
      return mapper.introspection;
    case 'access_token_record':
      return mapper.accessToken || mapper.introspection;
  }
}

const usable = (mapper: ClaimMapper): boolean => claimNameProblem(mapper.claim) === undefined;

/** The claim's value for a user: undefined (the claim is left out) when there is none or none converts to its JSON type. */
function valueOf(mapper: ClaimMapper, attributes: CustomAttributes | undefined): unknown {
  if (mapper.type === 'hardcoded') return mapper.value;
  // Own members only: a name every object has (constructor, hasOwnProperty) is no attribute of the user's.
  const value = attributes !== undefined && Object.hasOwn(attributes, mapper.attribute!) ? attributes[mapper.attribute!] : undefined;
  if (value === undefined) return undefined;
  const type = mapper.jsonType ?? 'string';
  if (!mapper.multivalued) return convert(type, typeof value === 'string' ? value : value[0]!);
  const values = (typeof value === 'string' ? [value] : value).map((one) => convert(type, one)).filter((one) => one !== undefined);
  return values.length === 0 ? undefined : values;
}

export function claimMapping(stored: readonly ClaimScope[]): ClaimMapping {
  // A mapper stored before its name was refused (a top-level `constructor`, claim-path.ts) is left out, not a 500 for every token.
  const scopes = stored.map((scope) => (scope.mappers.every(usable) ? scope : { ...scope, mappers: scope.mappers.filter(usable) }));
  const byName = new Map(scopes.map((scope) => [scope.name, scope]));
  // The library releases claims by their top name (`org` for `org.unit`).
  const scopeClaims = Object.fromEntries(scopes.map((scope) => [scope.name, [...new Set(scope.mappers.map((mapper) => topClaim(mapper.claim)))]]));
  const paths = new Map(scopes.flatMap((scope) => scope.mappers.map((mapper) => [mapper, claimPath(mapper.claim)] as const)));
  const allMappers = scopes.flatMap((scope) => scope.mappers);
  /** What each use must not show of a record: the paths of the mappers that go only to the other. */
  const notShown = {
    access_token: allMappers.filter((mapper) => mapper.introspection && !mapper.accessToken).map((mapper) => paths.get(mapper)!),
    introspection: allMappers.filter((mapper) => mapper.accessToken && !mapper.introspection).map((mapper) => paths.get(mapper)!),
  } satisfies Record<string, ClaimPath[]>;
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
          if (value !== undefined) setClaim(claims, paths.get(mapper)!, value);
        }
      }
      return claims;
    },
    strips: (use) => notShown[use].length > 0,
    strip: (use, claims) => (notShown[use].length === 0 ? claims : withoutClaims(claims, notShown[use])),
  };
}

/** No claim scopes: what a provider built without them uses. */
export const NO_CLAIM_SCOPES = claimMapping([]);

/** A token's scope parameter as a list. */
export function scopeWords(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}
