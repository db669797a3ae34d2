import type { Middleware } from 'koa';
import type { Logger } from '../observability/logger.ts';

/**
 * One line per request, written when the response finishes (the provider answers on the raw
 * response, so Koa's own status is not reliable here). Only the path is logged: query strings
 * can carry codes and tokens.
 */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    ctx.res.once('finish', () => {
      logger.info(
        {
          requestId: ctx.state.requestId as string,
          method: ctx.method,
          path: ctx.path,
          status: ctx.res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    await next();
  };
}
