import type { Middleware } from 'koa';
import type { ProviderRouteName } from './table.ts';

/** The OAuth endpoints a request can be handed straight to the provider for: provider routes, and discovery. */
export type EndpointName = ProviderRouteName | 'discovery';

const GUARDED = Symbol('gatehouse.guardedRoutes');
type Guarded = Middleware & { [GUARDED]?: ReadonlySet<EndpointName> };

/**
 * Marks a middleware in front of the provider (a gate, a token swap) with the only provider
 * routes it acts on; on every other route it just calls next(). It keeps checking the route
 * itself (Gatehouse's Koa app runs it on every provider path); the direct path to the provider
 * (src/oidc/direct-front.ts) reads the mark to leave it out of the routes it does not guard.
 */
export function guarding<M extends Middleware>(routes: Iterable<EndpointName>, middleware: M): M {
  (middleware as Guarded)[GUARDED] = new Set(routes);
  return middleware;
}

/** Whether a middleware acts on a route: unmarked ones act on every route. */
export function actsOn(middleware: Middleware, route: EndpointName): boolean {
  const routes = (middleware as Guarded)[GUARDED];
  return routes === undefined || routes.has(route);
}
