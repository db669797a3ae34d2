import type { Context } from 'koa';
import { chosenLocale } from './language.ts';
import { sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** The 429 page for too many wrong device codes: about devices and codes, with the way back to the code form (GET of the same path). */
export function deviceBlockedPage(views: Views): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    await sendPage(ctx, views, 'device-blocked', locale, { title: views.translate(locale)('device.too_many_title'), retryUrl: ctx.path }, 429);
  };
}
