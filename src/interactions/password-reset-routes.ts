import Router from '@koa/router';
import type { Context } from 'koa';
import { loginCountKey } from '../accounts/normalize.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import type { PasswordResets } from '../accounts/password-resets.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { Logger } from '../observability/logger.ts';
import { readForm } from './body.ts';
import { signInName } from './sign-in-fields.ts';
import { browserSession, checkCsrfToken, issueCsrfToken, type CsrfBinding } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { CsrfError, pageErrors } from './page-errors.ts';
import { passwordLinkSteps, type ResetSecondFactor } from './password-link-steps.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** The account operations a reset needs (src/accounts/accounts.ts). */
export interface ResettableAccounts {
  findByLogin(login: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  findById(id: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  setPassword(id: string, password: string): Promise<void>;
  checkNewPassword(id: string, password: string): Promise<void>;
  /** Lifts the user's sign-in lockouts; resolves to how many were lifted. */
  unlock(id: string): Promise<number>;
  /** Ends a pending required action (a temporary password's update_password: the user chose a new one). */
  completeRequiredAction?(id: string, action: 'update_password'): Promise<boolean>;
}

export type { ResetSecondFactor };

export type PasswordResetAuditEvent =
  | { readonly type: 'user.password_reset_requested'; readonly userId: string }
  | { readonly type: 'user.password_reset'; readonly userId: string; readonly secondFactor: string | null; readonly lockoutsCleared: number };

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
  /**
   * Whether reset is offered and how long links work (runtime settings, src/settings/): while it
   * is off, every page here answers 404 with the same "not available" page, whoever asks.
   */
  readonly settings: () => Promise<{ readonly enabled: boolean; readonly ttlSeconds: number }>;
  /** The password policy in force (a runtime setting), read for each form. */
  readonly policy: () => Promise<PasswordPolicy>;
  /** Undefined without SMTP: the pages say that reset by email is unavailable. */
  readonly mail: MailService<Locale> | undefined;
  /** Requests per IP, and per typed login (whether or not an account has it). */
  readonly limits: { readonly ip: AttemptLimiter; readonly login: AttemptLimiter };
  /** Ends every session, grant and refresh token of the user. */
  readonly revokeAll: (userId: string) => Promise<void>;
  readonly secondFactor: ResetSecondFactor;
  readonly audit?: (event: PasswordResetAuditEvent, ip: string) => void;
  /** Where people sign in when no sign-in sent them here: the account page (`<account>/`). */
  readonly accountPage: string;
  /** The sign-in page of an interaction ("Forgot password?" carries its uid: `?interaction=`). */
  readonly signInPage: (uid: string) => string;
}

/** An interaction uid as the library makes them (nanoid); anything else is not a way back. */
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

const displayName = (user: { username: string; name: string | null }) => (user.name !== null && user.name !== '' ? user.name : user.username);

/**
 * "Forgot password?": a form that always gives the same answer, an emailed single-use link,
 * and a new password that ends every session of the account. The lookup and the email happen
 * after the answer, so neither the answer nor its timing tells whether an account exists.
 * A user with a second factor passes it (code, recovery code or passkey) before the password
 * form is accepted: the email alone does not replace a factor. A reset lifts sign-in lockouts.
 */
export function passwordResetRoutes(deps: PasswordResetDeps): Router {
  const router = new Router();
  const { views, path } = deps;
  const csrfCookie = { secure: deps.secureCookies, path };
  // A router's middleware runs for every route of the router it is nested in (src/composition/self-service.ts
  // mounts the invitation and email-confirmation routes beside these): "reset is off" answers only the reset pages.
  const ownPage = (ctx: Context) => ctx.path === `${path}/forgot` || ctx.path.startsWith(`${path}/reset/`);
  const errors = pageErrors(views, deps.logger, path);
  router.use(async (ctx, next) => (ownPage(ctx) ? errors(ctx, next) : next()));
  router.use(async (ctx, next) => {
    if (!ownPage(ctx) || (await deps.settings()).enabled) return next();
    const locale = localeOf(ctx);
    await sendPage(ctx, views, 'password-forgot', locale, { title: views.translate(locale)('password_forgot.title'), available: false }, 404);
  });

  const minutes = async () => Math.round((await deps.settings()).ttlSeconds / 60);

  function localeOf(ctx: Context): Locale {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  /** The forgot form's CSRF token is bound to the browser's sign-in session (a link's forms also to the link: password-link-steps.ts). */
  const bindingOf = (ctx: Context): CsrfBinding => ({ session: browserSession(ctx), form: 'password-forgot' });

  async function requireCsrf(ctx: Context): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf, bindingOf(ctx))) throw new CsrfError();
    return form;
  }

  /** The way back from a page: to the sign-in that sent the person here, else to the account page. */
  const signInLink = (uid: unknown) =>
    typeof uid === 'string' && INTERACTION_UID.test(uid)
      ? { href: deps.signInPage(uid), label: 'self_service_links.back_to_sign_in' }
      : { href: deps.accountPage, label: 'self_service_links.sign_in' };

  async function message(ctx: Context, locale: Locale, key: string, link: { href: string; label: string; primary?: boolean }, status = 200) {
    const t = views.translate(locale);
    await sendPage(ctx, views, 'password-message', locale, {
      title: t(`${key}.title`),
      lead: t(`${key}.lead`, { minutes: String(await minutes()) }, await minutes()),
      link: { ...link, label: t(link.label) },
    }, status);
  }

  /** A reset link that is unknown, used, replaced or expired: ask for a new one. */
  const invalidLink = (ctx: Context, locale: Locale) =>
    message(ctx, locale, 'password_reset_invalid', { href: `${path}/forgot`, label: 'self_service_links.new_link', primary: true }, 400);

  async function sendResetMail(login: string, locale: Locale, ip: string): Promise<void> {
    const user = await deps.accounts.findByLogin(login);
    if (user === undefined || user.disabled || user.email === null || deps.mail === undefined) return;
    const token = await deps.resets.issue(user.id);
    // Deleted since it was found: no mail; the page says what it says to everyone (no enumeration).
    if (token === undefined) return;
    deps.audit?.({ type: 'user.password_reset_requested', userId: user.id }, ip);
    await deps.mail.send('password_reset', user.email, locale, {
      name: displayName(user),
      link: `${deps.publicBase}/reset/${token}`,
      minutes: String(await minutes()),
    });
  }

  router.get(`${path}/forgot`, async (ctx) => {
    const locale = localeOf(ctx);
    const t = views.translate(locale);
    const uid = typeof ctx.query.interaction === 'string' && INTERACTION_UID.test(ctx.query.interaction) ? ctx.query.interaction : undefined;
    await sendPage(ctx, views, 'password-forgot', locale, {
      title: t('password_forgot.title'),
      available: deps.mail !== undefined,
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx)),
      action: `${path}/forgot`,
      interaction: uid,
      back: signInLink(uid),
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
    const login = signInName(form);
    // Counted per typed login, known or not, and silently: a refused request answers like any other.
    const key = login === '' ? '' : loginCountKey(login);
    if (key !== '' && (await deps.limits.login.retryAfter(key)) === 0) {
      await deps.limits.login.fail(key);
      sendResetMail(login, locale, ctx.ip).catch((error: unknown) => deps.logger.error({ err: error }, 'password reset email not prepared'));
    }
    return message(ctx, locale, 'password_forgot_sent', signInLink(form.interaction));
  });

  passwordLinkSteps(router, { views, secureCookies: deps.secureCookies, cookiePath: path, accounts: deps.accounts, policy: deps.policy, secondFactor: deps.secondFactor, localeOf }, {
    base: `${path}/reset`,
    purpose: 'password-reset',
    copy: 'password_reset',
    links: deps.resets,
    invalidLink,
    async finish(ctx, locale, used) {
      const { userId } = used;
      await deps.accounts.completeRequiredAction?.(userId, 'update_password');
      await deps.revokeAll(userId);
      // The person proved the mailbox (and their second factor): lockouts from earlier guessing end.
      const lockoutsCleared = await deps.accounts.unlock(userId);
      deps.audit?.({ type: 'user.password_reset', userId, secondFactor: used.secondFactor ?? null, lockoutsCleared }, ctx.ip);
      const user = await deps.accounts.findById(userId);
      if (user?.email !== null && user?.email !== undefined && deps.mail !== undefined) {
        await deps.mail.send('password_changed', user.email, locale, { name: displayName(user) });
      }
      // Signed out everywhere: signing in again (the account page) is the next step.
      return message(ctx, locale, 'password_reset_done', { href: deps.accountPage, label: 'self_service_links.sign_in', primary: true });
    },
  });

  return router;
}
