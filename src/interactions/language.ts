import Router from '@koa/router';
import { LOCALES, type Locale } from './i18n.ts';
import type { Views } from './views.ts';

/** The language a person picked with the pages' language switcher (a plain, unsigned preference). */
export const LANGUAGE_COOKIE = 'gatehouse.lang';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

interface CookieReader {
  readonly cookies: { get(name: string, options?: { signed?: boolean }): string | undefined };
}

const asLocale = (value: unknown): Locale | undefined => LOCALES.find((locale) => locale === value);

/**
 * The picked language, if any. Callers pass it to views.negotiate ahead of the application's
 * ui_locales: the person's own choice on the page wins over the app's hint.
 */
export function chosenLocale(ctx: CookieReader): Locale | undefined {
  return asLocale(ctx.cookies.get(LANGUAGE_COOKIE, { signed: false }));
}

/** Where the switcher sends the person back to: a page on this site (never another origin). */
function safeReturn(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) && !/[\r\n]/.test(value) ? value : fallback;
}

/**
 * The page to show again in another language. GET pages are shown again as they are; a page
 * that answered a form (a failed sign-in, a wrong device code) goes back to the form's page.
 */
export function returnPathOf(method: string, originalUrl: string, interactionBase: string): string {
  if (method === 'GET' || method === 'HEAD') return originalUrl;
  const path = originalUrl.split('?')[0]!;
  const interaction = new RegExp(`^${interactionBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^/]+`).exec(path);
  return interaction?.[0] ?? path;
}

export interface LanguageLink {
  readonly locale: Locale;
  readonly name: string;
  readonly href: string;
  readonly current: boolean;
}

/** The switcher's links for a page shown in `current`. */
export function languageLinks(views: Views, current: Locale, returnPath: string): LanguageLink[] {
  const base = `${views.paths.interaction}/language`;
  return LOCALES.map((locale) => ({
    locale,
    name: views.translate(locale)('lang.name'),
    // '/' may stay as is in a query: the link reads like the page it returns to.
    href: `${base}/${encodeURIComponent(locale)}?return=${encodeURIComponent(returnPath).replace(/%2F/gi, '/')}`,
    current: locale === current,
  }));
}

/**
 * The hosted pages' small extras: the language switcher's endpoint, the script, the favicon.
 * No CSRF needed: switching language changes nothing but the page's language.
 */
export function pageExtraRoutes({ views, secureCookies }: { views: Views; secureCookies: boolean }): Router {
  const router = new Router();
  const { interaction, assets } = views.paths;

  router.get(`${interaction}/language/:locale`, (ctx) => {
    const locale = asLocale(ctx.params.locale);
    const back = safeReturn(ctx.query.return, `${interaction}/language`);
    if (locale === undefined) {
      ctx.status = 404;
      return;
    }
    ctx.cookies.set(LANGUAGE_COOKIE, locale, { signed: false, httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: ONE_YEAR_MS, path: '/' });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(back);
  });

  router.get(`${assets}/gatehouse.js`, (ctx) => {
    ctx.type = 'text/javascript';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.script;
  });

  const favicon = (ctx: { type: string; body: unknown; set(field: string, value: string): void }) => {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = views.favicon;
  };
  router.get(`${assets}/favicon.svg`, favicon);
  router.get('/favicon.ico', favicon);
  return router;
}
