import type { Middleware } from 'koa';
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
    if (ctx.status !== 404 || ctx.body != null || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return;
    if (ctx.accepts('json', 'html') !== 'html') return;
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    await sendPage(ctx, views, 'not-found', locale, { title: views.translate(locale)('not_found.title') }, 404);
  };
}
