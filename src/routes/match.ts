import { PROVIDER_ROUTE_NAMES, type ProviderRouteName, type RoutesTable } from './table.ts';

/**
 * Path matching the way oidc-provider's router matches (lib/helpers/router.js): routes compare
 * case-insensitively, where only ASCII letters fold (a non-ASCII character never matches an
 * ASCII one), and a path with one trailing slash reaches the same route as without it.
 * Everything in front of the provider that asks "which endpoint is this?" asks here, so a gate
 * or a token swap never sees a path differently from the endpoint behind it.
 */

function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (char) => char.toLowerCase());
}

const lookups = new WeakMap<RoutesTable, Map<string, ProviderRouteName>>();

function lookupOf(table: RoutesTable): Map<string, ProviderRouteName> {
  let lookup = lookups.get(table);
  if (lookup === undefined) {
    lookup = new Map();
    for (const name of PROVIDER_ROUTE_NAMES) {
      const key = asciiLower(table.provider[name]);
      if (!lookup.has(key)) lookup.set(key, name);
    }
    lookups.set(table, lookup);
  }
  return lookup;
}

/** Whether `path` starts with `prefix` as a whole path segment, folding ASCII case. */
export function underPath(path: string, prefix: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  if (path.length < prefix.length || asciiLower(path.slice(0, prefix.length)) !== asciiLower(prefix)) return false;
  return path.length === prefix.length || path[prefix.length] === '/';
}

/** The path the provider sees for a request path (its mount path removed), or undefined when the request is not the provider's. */
export function providerLocalPath(table: RoutesTable, path: string): string | undefined {
  if (!underPath(path, table.providerBase)) return undefined;
  return path.slice(table.providerBase.length) || '/';
}

/** The provider route a request path reaches (static routes), or undefined. */
export function providerRouteAt(table: RoutesTable, path: string): ProviderRouteName | undefined {
  const local = providerLocalPath(table, path);
  if (local === undefined) return undefined;
  const lookup = lookupOf(table);
  const exact = lookup.get(asciiLower(local));
  if (exact !== undefined) return exact;
  if (local.length > 1 && local.endsWith('/')) return lookup.get(asciiLower(local.slice(0, -1)));
  return undefined;
}

/** Whether a request path is one of Gatehouse's own paths (the same folding; trailing slash ignored). */
export function isPath(path: string, expected: string): boolean {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return asciiLower(trimmed) === asciiLower(expected);
}
