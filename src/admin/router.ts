import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { AuditActor } from '../observability/audit-trail.ts';
import { NotFoundError } from '../errors/gatehouse-error.ts';
import { errorResponder } from '../errors/respond.ts';
import { readJson, readJsonBody } from './json-body.ts';
import { refuseUnstorableText } from '../errors/nul-characters.ts';
import { openApiDocument } from './openapi.ts';
import type { AdminRoute } from './route-table.ts';

export interface AdminRouterDeps {
  readonly routes: readonly AdminRoute[];
  readonly auth: Middleware;
  /** The admin API's URL (its token audience); its path is the router's prefix (routes table). */
  readonly adminUrl: string;
  readonly logger: Logger;
}

/** The admin API: its own router, its own token authentication, JSON in and out. */
export function adminRouter({ routes, auth, adminUrl, logger }: AdminRouterDeps): Router {
  const router = new Router({ prefix: new URL(adminUrl).pathname });
  const document = openApiDocument(routes, adminUrl);
  // Always JSON, whatever the Accept header says; store outages are 503 + Retry-After like everywhere.
  router.use(errorResponder({ logger }));
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  for (const route of routes) {
    router[route.method](route.path, auth, async (ctx: Context & { params: Record<string, string> }) => {
      refuseUnstorableText(ctx.params);
      refuseUnstorableText(ctx.query);
      const body = route.body === undefined ? undefined : route.optionalBody === true && noBody(ctx) ? {} : route.streamedBody === true ? await readJsonBody(ctx, route.bodyLimit) : await readJson(ctx, route.bodyLimit);
      const result = await route.handle({
        params: ctx.params,
        query: ctx.query,
        body,
        op: { actor: ctx.state.actor as AuditActor, client: ctx.state.client as string, requestId: ctx.state.requestId as string | undefined },
      });
      ctx.set('Cache-Control', 'no-store');
      for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
      ctx.status = result.status ?? 200;
      if (result.body !== undefined) ctx.body = result.body;
    });
  }
  // Unknown paths under the prefix are JSON 404s, not the provider's HTML.
  router.all('/{*rest}', (ctx) => {
    throw new NotFoundError('route_not_found', { method: ctx.method, path: ctx.path });
  });
  return router;
}

/** A request that sent no body at all (an empty `{}` body is still read and checked). */
const noBody = (ctx: Context): boolean => ctx.get('transfer-encoding') === '' && (ctx.get('content-length') === '' || ctx.get('content-length') === '0');
