import type { Context } from 'koa';
import { providerRouteOf } from '../oidc/route-names.ts';

/**
 * A bounded label for a request: the provider's route name, else the template of the Gatehouse
 * route that matched (`/interaction/:uid/login`), else `other`. Never the raw path, which
 * carries uids and whatever a client typed.
 */
export function routeLabel(ctx: Context): string {
  const provider = providerRouteOf(ctx.req);
  if (provider !== undefined) return provider;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : 'other';
}
