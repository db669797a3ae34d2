import type { Middleware } from 'koa';
import { StoreUnavailableError, unavailableStore } from '../errors/store-unavailable.ts';
import type { Logger } from '../observability/logger.ts';

interface HttpishError {
  status?: number;
  expose?: boolean;
  message?: string;
}

/**
 * The one place that turns a thrown error into a response for Gatehouse's own routes (the
 * provider renders its own OAuth errors). Client errors keep their message; a store outage
 * (StoreUnavailableError or a raw driver error that says the same) is a 503; anything else is
 * logged (the logger adds the request id) and answered without internals.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (raw) {
      const store = unavailableStore(raw);
      const error = (typeof raw === 'object' && raw !== null ? raw : {}) as HttpishError;
      const status =
        store !== undefined ? 503 : typeof error.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
      const requestId = ctx.state.requestId as string | undefined;
      if (store !== undefined) logger.warn({ err: raw, store }, 'store unavailable');
      else if (status >= 500) logger.error({ err: raw }, 'request failed');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (status === 503) ctx.set('Retry-After', '5');
      ctx.body =
        status < 500 && error.expose === true
          ? { error: 'invalid_request', error_description: error.message, request_id: requestId }
          : status === 503
            ? {
                error: 'temporarily_unavailable',
                error_description: store !== undefined ? new StoreUnavailableError(store).error_description : 'try again shortly',
                request_id: requestId,
              }
            : { error: 'server_error', request_id: requestId };
    }
  };
}
