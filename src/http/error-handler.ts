import type { Middleware } from 'koa';
import type { Logger } from '../observability/logger.ts';

interface HttpishError {
  status?: number;
  expose?: boolean;
  message?: string;
}

/**
 * The one place that turns a thrown error into a response for Gatehouse's own routes (the
 * provider renders its own OAuth errors). Client errors keep their message; anything else is
 * logged with the request id and answered without internals.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (raw) {
      const error = (typeof raw === 'object' && raw !== null ? raw : {}) as HttpishError;
      const status = typeof error.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
      const requestId = ctx.state.requestId as string | undefined;
      if (status >= 500) logger.error({ err: raw, requestId }, 'request failed');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body =
        status < 500 && error.expose === true
          ? { error: 'invalid_request', error_description: error.message, request_id: requestId }
          : { error: status === 503 ? 'temporarily_unavailable' : 'server_error', request_id: requestId };
    }
  };
}
