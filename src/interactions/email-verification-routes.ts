import Router from '@koa/router';
import type { Context } from 'koa';
import type { EmailVerification } from '../accounts/email-verification.ts';
import type { Logger } from '../observability/logger.ts';
import { readForm } from './body.ts';
import { browserSession, checkCsrfToken, issueCsrfToken, type CsrfBinding } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { CsrfError, pageErrors } from './page-errors.ts';
import { sendPage } from './send-page.ts';
import type { Views } from './views.ts';
import { isolate } from './breakable.ts';

export interface EmailVerificationRoutesDeps {
  readonly views: Views;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** `<email>/verify/:token` (routes table); also the CSRF cookie's path. */
  readonly path: string;
  readonly verification: EmailVerification<Locale>;
  /** Where people sign in when no sign-in sent the link: the account page (`<account>/`). */
  readonly accountPage: string;
}

/**
 * The emailed link: GET shows a button, POST confirms the address. Opening the link changes
 * nothing, so mail scanners that fetch links do not use it up. After confirming, the person
 * continues the sign-in they came from, if the link was sent from one.
 */
export function emailVerificationRoutes(deps: EmailVerificationRoutesDeps): Router {
  const router = new Router();
  const { views, path } = deps;
  const csrfCookie = { secure: deps.secureCookies, path };
  /** A form's CSRF token is bound to the browser's sign-in session and to the link (src/interactions/csrf.ts). */
  const bindingOf = (ctx: Context, token: string): CsrfBinding => ({ session: browserSession(ctx), form: `email-verify:${token}` });
  router.use(pageErrors(views, deps.logger, path));

  function localeOf(ctx: Context): Locale {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  async function invalid(ctx: Context, locale: Locale) {
    const t = views.translate(locale);
    // "Sign in to get a new one": signing in asks to confirm again and sends a new link.
    const link = { href: deps.accountPage, label: t('self_service_links.sign_in') };
    await sendPage(ctx, views, 'email-verify', locale, { title: t('email_verify_invalid.title'), lead: t('email_verify_invalid.lead'), link }, 400);
  }

  router.get(`${path}/verify/:token`, async (ctx) => {
    const locale = localeOf(ctx);
    ctx.set('Referrer-Policy', 'no-referrer');
    const token = ctx.params.token!;
    const ticket = await deps.verification.check(token);
    if (ticket === undefined) return invalid(ctx, locale);
    const t = views.translate(locale);
    await sendPage(ctx, views, 'email-verify', locale, {
      title: t('email_verify.title'),
      lead: t(ticket.kind === 'registration' ? 'email_verify.lead_registration' : ticket.kind === 'change' ? 'email_verify.lead_change' : 'email_verify.lead', { email: isolate(ticket.email) }),
      action: `${path}/verify/${token}`,
      submit: t('email_verify.submit'),
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx, token)),
    });
  });

  router.post(`${path}/verify/:token`, async (ctx) => {
    const locale = localeOf(ctx);
    ctx.set('Referrer-Policy', 'no-referrer');
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf, bindingOf(ctx, ctx.params.token!))) throw new CsrfError();
    const confirmed = await deps.verification.confirm(ctx.params.token!);
    if (confirmed === undefined) return invalid(ctx, locale);
    const { kind, email, returnTo } = confirmed.ticket;
    const t = views.translate(locale);
    if ('taken' in confirmed) {
      // Another account took the address between the request and the link: the account keeps its own.
      const link = { href: deps.accountPage, label: t('self_service_links.account') };
      return sendPage(ctx, views, 'email-verify', locale, { title: t('email_change_taken.title'), lead: t('email_change_taken.lead', { email: isolate(email) }), link }, 409);
    }
    const done = kind === 'registration' ? 'registration_done' : kind === 'change' ? 'email_changed' : 'email_verified';
    await sendPage(ctx, views, 'email-verify', locale, {
      title: t(`${done}.title`),
      lead: t(returnTo === null ? `${done}.lead` : `${done}.lead_continue`, { email }),
      continueHref: returnTo ?? undefined,
      link: returnTo === null ? { href: deps.accountPage, label: t('self_service_links.account') } : undefined,
    });
  });

  return router;
}
