import type { Context } from 'koa';
import type { Logger } from '../observability/logger.ts';
import { redactedPath, routeLabel } from './route-label.ts';

/** The access log line's own fields (the logger adds level, time, service and msg). */
interface AccessLine {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  path?: string;
  status?: number;
  durationMs?: number;
  aborted?: true;
}

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
      // The same fields in the same order as with conditional spreads, without the two objects they made.
      const line: AccessLine = { requestId: ctx.state.requestId as string, method: ctx.method, route };
      if (route === 'other') line.path = redactedPath(path, words);
      line.status = status;
      line.durationMs = seconds * 1000;
      if (!ctx.res.writableFinished) line.aborted = true;
      logger.info(line, 'request');
    }
    observe?.({ route, method: ctx.method, status }, seconds);
  });
}
