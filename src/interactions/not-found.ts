import type { Context, Middleware } from 'koa';
import { NO_ROUTE, type AfterResponseStep } from '../oidc/after-response.ts';
import { chosenLocale } from './language.ts';
import { sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/**
 * A browser that asks for a page nobody serves gets a branded, localized 404 page (with the
 * language switcher) instead of Koa's bare "Not Found". Responses that already have a body
 * (the provider's JSON errors, the admin API) and non-browser requests are left alone.
 */
export function notFoundPage(views: Views): Middleware {
  return async (ctx, next) => {
    await next();
    await answerNotFound(views, ctx);
  };
}

/** The same page inside the provider, after the response (src/oidc/after-response.ts) of a request no provider route served. */
export function notFoundPageStep(views: Views): AfterResponseStep {
  return { routes: [NO_ROUTE], after: (ctx) => answerNotFound(views, ctx) };
}

async function answerNotFound(views: Views, ctx: Context): Promise<void> {
  if (ctx.status !== 404 || ctx.body != null || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return;
  if (ctx.accepts('json', 'html') !== 'html') return;
  const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
  await sendPage(ctx, views, 'not-found', locale, { title: views.translate(locale)('not_found.title') }, 404);
}
