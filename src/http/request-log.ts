import type { Context } from 'koa';
import type { Logger } from '../observability/logger.ts';
import { redactedPath, routeLabel } from './route-label.ts';

export type RequestObserver = (labels: { route: string; method: string; status: number }, seconds: number) => void;

/**
 * One line per request, written when the response finishes (the provider answers on the raw
 * response, so Koa's own status is not reliable here), and the same numbers to metrics. A
 * known route is logged by its name or template only: its path carries the interaction uid,
 * which is also the value of the interaction cookies, or a link's token. A path no route
 * matched carries the same: it is logged with every segment that is not a word of Gatehouse's
 * own paths (`words`, route-label.ts pathWords) replaced by `*`. Never the query string (it can
 * carry codes and tokens), headers or bodies. The logger adds the request id. The line is only
 * built when the logger writes `info` (src/http/edge.ts calls this).
 */
export function logWhenClosed(ctx: Context, logger: Logger, observe: RequestObserver | undefined, words: ReadonlySet<string>): void {
  // Monotonic, as hrtime, without a BigInt per reading.
  const started = performance.now();
  // The request's own path: the provider mounted below the root rewrites it to its local path.
  const { path } = ctx;
  // A response closes once: `on`, not `once` (no wrapper per request).
  ctx.res.on('close', () => {
    const seconds = (performance.now() - started) / 1000;
    const route = routeLabel(ctx);
    const status = ctx.res.statusCode;
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          requestId: ctx.state.requestId as string,
          method: ctx.method,
          route,
          ...(route === 'other' ? { path: redactedPath(path, words) } : {}),
          status,
          durationMs: seconds * 1000,
          ...(ctx.res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    }
    observe?.({ route, method: ctx.method, status }, seconds);
  });
}
