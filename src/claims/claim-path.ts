import { isReservedClaim } from '../accounts/reserved-claims.ts';

/**
 * A mapper's claim name as Keycloak's *Token Claim Name* reads it: a `.` nests the claim in an
 * object (`org.unit` is `{"org": {"unit": …}}`), `\.` is a literal dot (`https://example\.com/team`
 * is one claim named `https://example.com/team`). Each level is 1-64 letters, digits, `_`, `-`,
 * `:`, `/` (or escaped dots); the first starts with a letter and is not a standard or protocol
 * claim (the token's own `address`, `sub`, … are never overwritten or extended); at most
 * MAX_LEVELS levels, none empty.
 */
export const MAX_LEVELS = 5;
export const MAX_CLAIM_NAME = 255;
const LEVEL = /^[A-Za-z0-9_:/.-]{1,64}$/;
/** The whole name's shape (for the OpenAPI document; the levels' own limits are checked in code). */
export const CLAIM_NAME = /^[A-Za-z](?:[A-Za-z0-9_:/-]|\\\.)*(?:\.(?:[A-Za-z0-9_:/-]|\\\.)+)*$/;

export type ClaimPath = readonly string[];

/** The levels of a claim name (escapes resolved), or undefined when it is malformed (an empty level, a stray backslash). */
function split(name: string): string[] | undefined {
  const levels: string[] = [];
  let current = '';
  for (let index = 0; index < name.length; index += 1) {
    const char = name[index]!;
    if (char === '\\') {
      if (name[index + 1] !== '.') return undefined;
      current += '.';
      index += 1;
    } else if (char === '.') {
      if (current === '') return undefined;
      levels.push(current);
      current = '';
    } else current += char;
  }
  if (current === '') return undefined;
  levels.push(current);
  return levels;
}

/** Why a claim name is refused, or undefined when it may be used. */
export function claimNameProblem(name: string): 'mapped_claim_name' | 'reserved_claim_name' | undefined {
  if (name.length > MAX_CLAIM_NAME || !CLAIM_NAME.test(name)) return 'mapped_claim_name';
  const levels = split(name);
  // `__proto__` would set an object's prototype instead of a member. A top-level `constructor`
  // makes the claims no plain object to oidc-provider (it tells them by `constructor === Object`):
  // its token endpoint threw on every token of the scope (500), and it never releases such a claim.
  if (levels === undefined || levels.length > MAX_LEVELS || levels.some((level) => !LEVEL.test(level) || level === '__proto__') || levels[0] === 'constructor') {
    return 'mapped_claim_name';
  }
  if (isReservedClaim(levels[0]!)) return 'reserved_claim_name';
  return undefined;
}

/** A valid claim name's levels (see claimNameProblem); a name that is not valid is one level as it is. */
export function claimPath(name: string): ClaimPath {
  return split(name) ?? [name];
}

/** The claim a name lands in at the top of the token (`org` for `org.unit`). */
export function topClaim(name: string): string {
  return claimPath(name)[0]!;
}

/** Whether one path is the other or lies inside it (`org` and `org.unit`): they cannot both be set. */
export function overlaps(a: ClaimPath, b: ClaimPath): boolean {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

type ClaimObject = Record<string, unknown>;
const isClaimObject = (value: unknown): value is ClaimObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets `value` at `path` in `claims`, making the objects on the way (the mappers of one scope never overlap). */
export function setClaim(claims: ClaimObject, path: ClaimPath, value: unknown): void {
  let at = claims;
  for (let index = 0; index < path.length - 1; index += 1) {
    const level = path[index]!;
    const next = Object.hasOwn(at, level) ? at[level] : undefined;
    if (isClaimObject(next)) at = next;
    else {
      const made: ClaimObject = {};
      at[level] = made;
      at = made;
    }
  }
  at[path[path.length - 1]!] = value;
}

/**
 * `claims` without what lies at each of `paths`: a copy where anything goes (objects left empty go
 * too), never a change to `claims` or the objects in it (they may be a stored token's); `claims`
 * itself when none of the paths is there.
 */
export function withoutClaims(claims: ClaimObject, paths: readonly ClaimPath[]): ClaimObject {
  let result = claims;
  for (const path of paths) result = without(result, path, 0);
  return result;
}

function without(claims: ClaimObject, path: ClaimPath, depth: number): ClaimObject {
  const level = path[depth]!;
  if (!Object.hasOwn(claims, level)) return claims;
  if (depth === path.length - 1) {
    const { [level]: _gone, ...rest } = claims;
    return rest;
  }
  const inner = claims[level];
  if (!isClaimObject(inner)) return claims;
  const next = without(inner, path, depth + 1);
  if (next === inner) return claims;
  if (Object.keys(next).length === 0) {
    const { [level]: _gone, ...rest } = claims;
    return rest;
  }
  return { ...claims, [level]: next };
}
