import { unavailableStore } from '../errors/store-unavailable.ts';
import { underPath } from '../routes/match.ts';
import type { Middleware } from 'koa';
import { HashQueueFullError } from '../accounts/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** Thrown by the page routes for a failed CSRF check. */
export class CsrfError extends Error {
  readonly status = 403;
  readonly expose = true;
  constructor() {
    super('CSRF token missing or wrong');
    this.name = 'CsrfError';
  }
}

interface HttpishError {
  name?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/**
 * The hosted pages' error boundary: every failure becomes a localized HTML page with the
 * support reference, never JSON or a stack. A full hashing queue answers 503 + Retry-After.
 */
export function pageErrors(views: Views, logger: Logger, interactionPath = '/interaction'): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && underPath(ctx.path, interactionPath)) {
        await sendErrorPage(ctx, views, views.negotiate(undefined, ctx.get('accept-language')), { code: 'not_found' }, 404);
      }
    } catch (raw) {
      const locale = (ctx.state.locale as ReturnType<Views['negotiate']> | undefined) ?? views.negotiate(undefined, ctx.get('accept-language'));
      if (raw instanceof HashQueueFullError) {
        ctx.set('Retry-After', String(raw.retryAfterSeconds));
        const t = views.translate(locale);
        const uid = typeof ctx.params?.uid === 'string' ? ctx.params.uid : undefined;
        await sendPage(ctx, views, 'busy', locale, { title: t('busy.title'), retryUrl: uid === undefined ? undefined : `${interactionPath}/${encodeURIComponent(uid)}` }, 503);
        return;
      }
      const error = (typeof raw === 'object' && raw !== null ? raw : {}) as HttpishError;
      // A store outage (e.g. the account layer's own mongoose calls) is a 503, not a 500.
      const outage = unavailableStore(raw) !== undefined;
      if (outage) ctx.set('Retry-After', '5');
      const status = outage ? 503 : (error.status ?? error.statusCode ?? 500);
      const requestId = ctx.state.requestId as string | undefined;
      if (status >= 500) logger.error({ err: raw, requestId }, 'hosted page failed');
      const code =
        error.name === 'SessionNotFound'
          ? 'expired'
          : raw instanceof CsrfError
            ? 'csrf'
            : outage
              ? 'temporarily_unavailable'
              : status >= 500
                ? 'server_error'
                : 'invalid_request';
      await sendErrorPage(ctx, views, locale, { code }, status >= 400 && status < 600 ? status : 500);
    }
  };
}
