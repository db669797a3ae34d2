import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';

/** Where the provider's route name is kept on the request (a property: cheaper per request than a WeakMap entry). */
const PROVIDER_ROUTE = Symbol('gatehouse.providerRoute');
type Labelled = IncomingMessage & { [PROVIDER_ROUTE]?: string };

/** Remembers which of the provider's routes (`token`, `discovery`, ...) served a request (the provider's outermost middleware tells, src/oidc/error-boundary.ts). */
export function recordProviderRoute(req: IncomingMessage, route: string): void {
  (req as Labelled)[PROVIDER_ROUTE] = route;
}

/** Forgets the provider route of a request that a page handed to the provider and then answered as its own (src/interactions/resume-here.ts). */
export function forgetProviderRoute(req: IncomingMessage): void {
  (req as Labelled)[PROVIDER_ROUTE] = undefined;
}

/**
 * A bounded label for a request: the provider's route name, else the template of the Gatehouse
 * route that matched (`/interaction/:uid/login`), else `other`. Never the raw path, which
 * carries uids and whatever a client typed.
 */
export function routeLabel(ctx: Context): string {
  const provider = (ctx.req as Labelled)[PROVIDER_ROUTE];
  if (provider !== undefined) return provider;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : 'other';
}
