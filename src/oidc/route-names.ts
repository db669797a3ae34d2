import type Provider from 'oidc-provider';
import { recordProviderRoute } from '../http/route-label.ts';

/**
 * Tells the request log which of the provider's routes (`token`, `authorization`, `discovery`,
 * ...) served a request, so metrics and logs can label it with the route's name instead of its path.
 */
export function recordRouteNames(provider: Provider): void {
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
      if (typeof route === 'string') recordProviderRoute(ctx.req, route);
    }
  });
}
