import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { AfterResponseSteps, ResponseFailure } from './after-response.ts';
import { respondToError, type ErrorPageRenderer } from '../errors/respond.ts';
import { recordProviderRoute } from '../http/route-label.ts';
import type { Logger } from '../observability/logger.ts';
import { retryAfterOnOutage } from './outage-retry-after.ts';
import { isPageRoute } from './page-routes.ts';

const routeOf = (ctx: object): unknown => (ctx as { oidc?: { route?: unknown } }).oidc?.route;
const requestIdOf = (ctx: Context) => (ctx.state.requestId as string | undefined) ?? (ctx.response.get('X-Request-Id') || undefined);

/**
 * The provider is a Koa app of its own. Its routes catch their errors, but what escapes them
 * (a session that cannot be saved after the response was built, a hook that throws) would
 * reach Koa's default handler: a plain-text 500 and a non-JSON line on stderr. This answers
 * them through the one mapper (a page on the browser routes, JSON elsewhere; store outages
 * 503 + Retry-After) and logs anything Koa still reports as JSON with the request id.
 */
/**
 * The same outermost provider middleware also does two things every request needs, as one step
 * instead of three (docs/PERFORMANCE.md, sixth round): it tells the request log which of the
 * provider's routes served the request, so metrics and logs label it by the route's name
 * (`token`, `authorization`, `discovery`, ...) instead of its path, and it adds Retry-After to
 * a 503 the library rendered itself (src/oidc/outage-retry-after.ts).
 */
/**
 * It also runs the after-response steps (src/oidc/after-response.ts) itself, right inside its own
 * `try`, instead of a middleware of their own below it: the same order and failure semantics
 * (a step's error reaches this mapper, Retry-After is added once the steps ran), one layer fewer
 * on every provider request.
 */
export function providerErrorBoundary(provider: Provider, logger: Logger, page: ErrorPageRenderer | undefined, settle?: AfterResponseSteps): void {
  provider.use(async (ctx, next) => {
    try {
      if (settle === undefined) await next();
      else {
        let failure: ResponseFailure | undefined;
        try {
          await next();
        } catch (error) {
          failure = { error };
        }
        const settled = settle(ctx as unknown as KoaContextWithOIDC, failure);
        failure = settled instanceof Promise ? await settled : settled;
        if (failure !== undefined) throw failure.error;
      }
      retryAfterOnOutage(ctx as unknown as Context);
    } catch (raw) {
      const koa = ctx as unknown as Context;
      koa.state.requestId ??= requestIdOf(koa);
      await respondToError(koa, raw, { logger, page: isPageRoute(routeOf(ctx)) ? page : undefined });
    } finally {
      const route = routeOf(ctx);
      if (typeof route === 'string') recordProviderRoute(ctx.req, route);
    }
  });
  // Koa's own 'error' event, outside the typings of the provider's events.
  const on = provider.on.bind(provider) as unknown as (event: 'error', listener: (error: unknown, ctx?: Context) => void) => void;
  on('error', (error, ctx) => {
    const status = (error as { status?: unknown } | undefined)?.status;
    const fields = { err: error, requestId: ctx === undefined ? undefined : requestIdOf(ctx) };
    if (typeof status === 'number' && status < 500) logger.warn(fields, 'provider request refused');
    else logger.error(fields, 'provider app error');
  });
}
