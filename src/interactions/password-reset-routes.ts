import Router from '@koa/router';
import type { Context } from 'koa';
import { loginKey } from '../accounts/normalize.ts';
import { PasswordPolicyError } from '../accounts/errors.ts';
import { checkPassword, type PasswordPolicy } from '../accounts/password-policy.ts';
import type { PasswordResets } from '../accounts/password-resets.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { Logger } from '../observability/logger.ts';
import { readForm } from './body.ts';
import { checkCsrfToken, issueCsrfToken } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { CsrfError, pageErrors } from './page-errors.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** The account operations a reset needs (src/accounts/accounts.ts). */
export interface ResettableAccounts {
  findByLogin(login: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  findById(id: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  setPassword(id: string, password: string): Promise<void>;
}

export interface PasswordResetDeps {
  readonly views: Views;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** `<password>/forgot` and `<password>/reset/:token` (routes table). */
  readonly path: string;
  /** Absolute URL of `path` for the links in emails (from GATEHOUSE_ISSUER, never the Host header). */
  readonly publicBase: string;
  readonly accounts: ResettableAccounts;
  readonly resets: PasswordResets;
  readonly ttlSeconds: number;
  readonly policy: PasswordPolicy;
  /** Undefined without SMTP: the pages say that reset by email is unavailable. */
  readonly mail: MailService<Locale> | undefined;
  /** Requests per IP, and per typed login (whether or not an account has it). */
  readonly limits: { readonly ip: AttemptLimiter; readonly login: AttemptLimiter };
  /** Ends every session, grant and refresh token of the user. */
  readonly revokeAll: (userId: string) => Promise<void>;
  readonly audit?: (type: 'user.password_reset_requested' | 'user.password_reset', userId: string) => void;
}

const displayName = (user: { username: string; name: string | null }) => (user.name !== null && user.name !== '' ? user.name : user.username);

/**
 * "Forgot password?": a form that always gives the same answer, an emailed single-use link,
 * and a new password that ends every session of the account. The lookup and the email happen
 * after the answer, so neither the answer nor its timing tells whether an account exists.
 */
export function passwordResetRoutes(deps: PasswordResetDeps): Router {
  const router = new Router();
  const { views, path } = deps;
  const csrfCookie = { secure: deps.secureCookies, path };
  router.use(pageErrors(views, deps.logger, path));

  function localeOf(ctx: Context): Locale {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  async function requireCsrf(ctx: Context): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf)) throw new CsrfError();
    return form;
  }

  async function message(ctx: Context, locale: Locale, key: string, status = 200) {
    const t = views.translate(locale);
    await sendPage(ctx, views, 'password-message', locale, { title: t(`${key}.title`), lead: t(`${key}.lead`, { minutes: String(Math.round(deps.ttlSeconds / 60)) }) }, status);
  }

  async function resetForm(ctx: Context, locale: Locale, token: string, error?: string) {
    const t = views.translate(locale);
    await sendPage(ctx, views, 'password-reset', locale, {
      title: t('password_reset.title'),
      action: `${path}/reset/${token}`,
      csrf: issueCsrfToken(ctx, csrfCookie),
      minLength: deps.policy.minLength,
      error: error === undefined ? undefined : t(error, { min: String(deps.policy.minLength) }),
    }, error === undefined ? 200 : 400);
  }

  async function sendResetMail(login: string, locale: Locale): Promise<void> {
    const user = await deps.accounts.findByLogin(login);
    if (user === undefined || user.disabled || user.email === null || deps.mail === undefined) return;
    const token = await deps.resets.issue(user.id);
    deps.audit?.('user.password_reset_requested', user.id);
    await deps.mail.send('password_reset', user.email, locale, {
      name: displayName(user),
      link: `${deps.publicBase}/reset/${token}`,
      minutes: String(Math.round(deps.ttlSeconds / 60)),
    });
  }

  router.get(`${path}/forgot`, async (ctx) => {
    const locale = localeOf(ctx);
    const t = views.translate(locale);
    await sendPage(ctx, views, 'password-forgot', locale, {
      title: t('password_forgot.title'),
      available: deps.mail !== undefined,
      csrf: issueCsrfToken(ctx, csrfCookie),
      action: `${path}/forgot`,
    });
  });

  router.post(`${path}/forgot`, async (ctx) => {
    const locale = localeOf(ctx);
    const form = await requireCsrf(ctx);
    if (deps.mail === undefined) return ctx.redirect(`${path}/forgot`);
    if ((await deps.limits.ip.retryAfter(ctx.ip)) > 0) {
      return sendErrorPage(ctx, views, locale, { code: 'too_many_requests' }, 429);
    }
    await deps.limits.ip.fail(ctx.ip);
    const login = (form.login ?? '').trim();
    // Counted per typed login, known or not, and silently: a refused request answers like any other.
    const key = login === '' ? '' : loginKey(login);
    if (key !== '' && (await deps.limits.login.retryAfter(key)) === 0) {
      await deps.limits.login.fail(key);
      sendResetMail(login, locale).catch((error: unknown) => deps.logger.error({ err: error }, 'password reset email not prepared'));
    }
    return message(ctx, locale, 'password_forgot_sent');
  });

  router.get(`${path}/reset/:token`, async (ctx) => {
    const locale = localeOf(ctx);
    ctx.set('Referrer-Policy', 'no-referrer');
    if ((await deps.resets.check(ctx.params.token!)) === undefined) return message(ctx, locale, 'password_reset_invalid', 400);
    return resetForm(ctx, locale, ctx.params.token!);
  });

  router.post(`${path}/reset/:token`, async (ctx) => {
    const locale = localeOf(ctx);
    ctx.set('Referrer-Policy', 'no-referrer');
    const form = await requireCsrf(ctx);
    const token = ctx.params.token!;
    if ((await deps.resets.check(token)) === undefined) return message(ctx, locale, 'password_reset_invalid', 400);
    const password = form.password ?? '';
    if (password !== (form.confirm ?? '')) return resetForm(ctx, locale, token, 'password_reset.mismatch');
    try {
      checkPassword(password, deps.policy);
    } catch (error) {
      if (error instanceof PasswordPolicyError) return resetForm(ctx, locale, token, error.rule === 'too_long' ? 'password_reset.too_long' : 'password_reset.too_short');
      throw error;
    }
    // TODO(MFA): a user with a second factor must pass it here, before the password changes (issue 18 item 2).
    const userId = await deps.resets.consume(token);
    if (userId === undefined) return message(ctx, locale, 'password_reset_invalid', 400);
    await deps.accounts.setPassword(userId, password);
    await deps.revokeAll(userId);
    deps.audit?.('user.password_reset', userId);
    const user = await deps.accounts.findById(userId);
    if (user?.email !== null && user?.email !== undefined && deps.mail !== undefined) {
      await deps.mail.send('password_changed', user.email, locale, { name: displayName(user) });
    }
    return message(ctx, locale, 'password_reset_done');
  });

  return router;
}
