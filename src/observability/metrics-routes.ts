import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Registry } from 'prom-client';

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** GET /metrics in Prometheus text format; with a token, only for `Authorization: Bearer <token>`. */
export function metricsRoutes({ registry, token, path = '/metrics' }: { registry: Registry; token: string | undefined; path?: string }): Router {
  const router = new Router();
  router.get(path, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (token !== undefined) {
      const match = /^Bearer (.+)$/.exec(ctx.get('Authorization'));
      if (match === null || !sameSecret(match[1]!, token)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = { error: 'invalid_token' };
        return;
      }
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}
