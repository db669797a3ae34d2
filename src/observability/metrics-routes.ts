import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Registry } from 'prom-client';

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * GET /metrics in Prometheus text format; with a token, only for `Authorization: Bearer <token>`.
 * `render` replaces the registry's own text (with GATEHOUSE_WORKERS: the whole instance's, from
 * the supervisor); when it fails the scrape answers 503, never a partial or a stale text.
 */
export function metricsRoutes({ registry, token, path = '/metrics', render }: { registry: Registry; token: string | undefined; path?: string; render?: () => Promise<string> }): Router {
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
    let text: string;
    try {
      text = await (render === undefined ? registry.metrics() : render());
    } catch {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = { error: 'metrics_unavailable' };
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = text;
  });
  return router;
}
