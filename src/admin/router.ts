import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { AuditActor } from '../observability/audit-log.ts';
import { asOperationError, OperationError } from '../operations/errors.ts';
import { readJson } from './json-body.ts';
import { openApiDocument } from './openapi.ts';
import type { AdminRoute } from './route-table.ts';

export interface AdminRouterDeps {
  readonly routes: readonly AdminRoute[];
  readonly auth: Middleware;
  /** The admin API's URL (its token audience); its path is the router's prefix (routes table). */
  readonly adminUrl: string;
  readonly logger: Logger;
}

const ERROR_NAMES: Record<number, string> = { 400: 'invalid_request', 404: 'not_found', 409: 'conflict', 413: 'invalid_request' };

/** Answers every admin failure as JSON: the caller's mistakes with their details, ours as 500. */
function adminErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (raw) {
      const error = asOperationError(raw);
      ctx.set('Cache-Control', 'no-store');
      if (error instanceof OperationError) {
        ctx.status = error.status;
        ctx.body = { error: ERROR_NAMES[error.status], message: error.message, details: error.details };
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (status === 413) {
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', message: 'request body too large', details: [] };
        return;
      }
      logger.error({ err: raw, requestId: ctx.state.requestId }, 'admin API request failed');
      ctx.status = 500;
      ctx.body = { error: 'server_error', message: 'internal error', request_id: ctx.state.requestId };
    }
  };
}

/** The admin API: its own router, its own token authentication, JSON in and out. */
export function adminRouter({ routes, auth, adminUrl, logger }: AdminRouterDeps): Router {
  const router = new Router({ prefix: new URL(adminUrl).pathname });
  const document = openApiDocument(routes, adminUrl);
  router.use(adminErrors(logger));
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  for (const route of routes) {
    router[route.method](route.path, auth, async (ctx: Context & { params: Record<string, string> }) => {
      const body = route.body === undefined ? undefined : await readJson(ctx);
      const result = await route.handle({
        params: ctx.params,
        query: ctx.query,
        body,
        op: { actor: ctx.state.actor as AuditActor, requestId: ctx.state.requestId as string | undefined },
      });
      ctx.set('Cache-Control', 'no-store');
      ctx.status = result.status ?? 200;
      if (result.body !== undefined) ctx.body = result.body;
    });
  }
  // Unknown paths under the prefix are JSON 404s, not the provider's HTML.
  router.all('/{*rest}', (ctx) => {
    throw new OperationError(404, `no admin route ${ctx.method} ${ctx.path}`);
  });
  return router;
}
