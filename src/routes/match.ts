import type { EndpointName } from './guards.ts';
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

/**
 * A table's route lookup, and the last path asked about with its answer: the edge, the gates
 * and the swaps in front of the provider each ask about the same request's path in turn.
 */
interface Lookup {
  readonly routes: Map<string, ProviderRouteName>;
  lastPath: string | undefined;
  lastRoute: ProviderRouteName | undefined;
}

const lookups = new WeakMap<RoutesTable, Lookup>();

function lookupOf(table: RoutesTable): Lookup {
  let lookup = lookups.get(table);
  if (lookup === undefined) {
    const routes = new Map<string, ProviderRouteName>();
    for (const name of PROVIDER_ROUTE_NAMES) {
      const key = asciiLower(table.provider[name]);
      if (!routes.has(key)) routes.set(key, name);
    }
    lookup = { routes, lastPath: undefined, lastRoute: undefined };
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
  const lookup = lookupOf(table);
  if (path === lookup.lastPath) return lookup.lastRoute;
  const route = routeAt(table, lookup.routes, path);
  lookup.lastPath = path;
  lookup.lastRoute = route;
  return route;
}

function routeAt(table: RoutesTable, routes: Map<string, ProviderRouteName>, path: string): ProviderRouteName | undefined {
  const local = providerLocalPath(table, path);
  if (local === undefined) return undefined;
  const exact = routes.get(asciiLower(local));
  if (exact !== undefined) return exact;
  if (local.length > 1 && local.endsWith('/')) return routes.get(asciiLower(local.slice(0, -1)));
  return undefined;
}

/** The endpoints machines call at volume: no page router serves their paths (src/app.ts sends them straight to the provider). */
const OAUTH_ENDPOINTS: ReadonlySet<ProviderRouteName> = new Set(['token', 'introspection', 'revocation', 'userinfo', 'jwks']);
/** The discovery document's path below the issuer. */
export const DISCOVERY = '/.well-known/openid-configuration';

/** Which of the OAuth endpoints (token, introspection, revocation, userinfo, JWKS) or the discovery document a request path is, if any. */
export function oauthEndpointAt(table: RoutesTable, path: string): EndpointName | undefined {
  const route = providerRouteAt(table, path);
  if (route !== undefined) return OAUTH_ENDPOINTS.has(route) ? route : undefined;
  const local = providerLocalPath(table, path);
  return local !== undefined && isPath(local, DISCOVERY) ? 'discovery' : undefined;
}

/** Whether a request path is one of Gatehouse's own paths (the same folding; trailing slash ignored). */
export function isPath(path: string, expected: string): boolean {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return asciiLower(trimmed) === asciiLower(expected);
}
