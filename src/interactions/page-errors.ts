import type { Context, Middleware } from 'koa';
import { errors } from 'oidc-provider';
import { HashQueueFullError } from '../accounts/errors.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { errorResponder, type ErrorPageRenderer } from '../errors/respond.ts';
import type { Logger } from '../observability/logger.ts';
import { underPath } from '../routes/match.ts';
import { FormTooLargeError, NotAFormError } from './body.ts';
import { dataSize } from './data-size.ts';
import { chosenLocale } from './language.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** Thrown by the page routes for a failed CSRF check. */
export class CsrfError extends GatehouseError {
  constructor() {
    super('CSRF token missing or wrong', { status: 403, code: 'csrf', expose: true });
  }
}

function localeOf(ctx: Context, views: Views) {
  return (ctx.state.locale as ReturnType<Views['negotiate']> | undefined) ?? views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
}

/** The page code a hosted page shows for an error (see sendErrorPage). */
function pageCode(error: GatehouseError): string {
  if (error.cause instanceof errors.SessionNotFound) return 'expired';
  if (error instanceof CsrfError) return 'csrf';
  if (error instanceof NotAFormError) return 'not_a_form';
  if (error instanceof FormTooLargeError) return 'too_large';
  if (error.code === 'temporarily_unavailable') return 'temporarily_unavailable';
  return error.status >= 500 ? 'server_error' : 'invalid_request';
}

/**
 * How the hosted pages show an error: a localized page with the support reference, never a
 * stack. A full hashing queue shows the "busy" page with a retry link.
 */
export function errorPage(views: Views, interactionPath = '/interaction'): ErrorPageRenderer {
  return async (ctx, error) => {
    const locale = localeOf(ctx, views);
    if (error instanceof HashQueueFullError) {
      const t = views.translate(locale);
      const uid = typeof ctx.params?.uid === 'string' ? ctx.params.uid : undefined;
      const retryUrl = uid === undefined ? undefined : `${interactionPath}/${encodeURIComponent(uid)}`;
      await sendPage(ctx, views, 'busy', locale, { title: t('busy.title'), retryUrl }, 503);
      return;
    }
    const params = error instanceof FormTooLargeError ? { limit: dataSize(error.limit, locale) } : undefined;
    await sendErrorPage(ctx, views, locale, { code: pageCode(error), params }, error.status);
  };
}

/**
 * The hosted pages' error boundary: the one mapper (src/errors/respond.ts) with the page
 * renderer, so browsers get a page and a caller that asks for JSON gets JSON. Unknown paths
 * under the interaction path are a 404 page.
 */
export function pageErrors(views: Views, logger: Logger, interactionPath = '/interaction'): Middleware {
  const responder = errorResponder({ logger, page: errorPage(views, interactionPath) });
  return (ctx, next) =>
    responder(ctx, async () => {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && underPath(ctx.path, interactionPath)) {
        await sendErrorPage(ctx, views, localeOf(ctx, views), { code: 'not_found' }, 404);
      }
    });
}
