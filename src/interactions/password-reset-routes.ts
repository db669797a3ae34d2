import Router from '@koa/router';
import type { Context } from 'koa';
import { loginKey } from '../accounts/normalize.ts';
import { PasswordPolicyError } from '../accounts/errors.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import { passwordRequirements, unmetRequirements } from './password-rules.ts';
import type { PasswordResets, ResetTicket } from '../accounts/password-resets.ts';
import type { Factors } from '../mfa/factors.ts';
import { passkeyChallenge, type Passkeys } from '../mfa/passkeys.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { Logger } from '../observability/logger.ts';
import { readForm } from './body.ts';
import { browserSession, checkCsrfToken, issueCsrfToken, type CsrfBinding } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { chosenLocale } from './language.ts';
import { CsrfError, pageErrors } from './page-errors.ts';
import { sendErrorPage, sendPage } from './send-page.ts';
import { embedJson } from './steps/embed.ts';
import type { Views } from './views.ts';
import { DEFAULT_TOTP } from '../mfa/totp.ts';

/** The account operations a reset needs (src/accounts/accounts.ts). */
export interface ResettableAccounts {
  findByLogin(login: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  findById(id: string): Promise<{ id: string; username: string; name: string | null; email: string | null; disabled: boolean } | undefined>;
  setPassword(id: string, password: string): Promise<void>;
  checkNewPassword(id: string, password: string): Promise<void>;
  /** Ends a pending required action (a temporary password's update_password: the user chose a new one). */
  completeRequiredAction?(id: string, action: 'update_password'): Promise<boolean>;
  /** Lifts the user's sign-in lockouts; resolves to how many were lifted. */
  unlock(id: string): Promise<number>;
}

/** The user's second factors, which a reset must pass before it sets the password (src/mfa). */
export interface ResetSecondFactor {
  readonly factors: Pick<Factors, 'status' | 'verify'>;
  readonly passkeys: Pick<Passkeys, 'usable' | 'list' | 'authenticationOptions' | 'authenticate'>;
  /** deriveKey(secret, 'passkey-challenges'): binds a passkey challenge to the reset link. */
  readonly challengeKey: Buffer;
}

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
  router.use(pageErrors(views, deps.logger, path));
  router.use(async (ctx, next) => {
    if ((await deps.settings()).enabled) return next();
    const locale = localeOf(ctx);
    await sendPage(ctx, views, 'password-forgot', locale, { title: views.translate(locale)('password_forgot.title'), available: false }, 404);
  });

  const minutes = async () => String(Math.round((await deps.settings()).ttlSeconds / 60));

  function localeOf(ctx: Context): Locale {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  /** A form's CSRF token is bound to the browser's sign-in session and, on a link's pages, to the link. */
  const bindingOf = (ctx: Context, token?: string): CsrfBinding => ({ session: browserSession(ctx), form: token === undefined ? 'password-forgot' : `password-reset:${token}` });

  async function requireCsrf(ctx: Context, token?: string): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf, bindingOf(ctx, token))) throw new CsrfError();
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
      lead: t(`${key}.lead`, { minutes: await minutes() }),
      link: { ...link, label: t(link.label) },
    }, status);
  }

  /** A reset link that is unknown, used, replaced or expired: ask for a new one. */
  const invalidLink = (ctx: Context, locale: Locale) =>
    message(ctx, locale, 'password_reset_invalid', { href: `${path}/forgot`, label: 'self_service_links.new_link', primary: true }, 400);

  /** `error`: a locale key, or (a broken password policy) the message itself. */
  async function resetForm(ctx: Context, locale: Locale, token: string, error?: string | { readonly text: string }) {
    const t = views.translate(locale);
    const policy = await deps.policy();
    const { minLength } = policy;
    await sendPage(ctx, views, 'password-reset', locale, {
      title: t('password_reset.title'),
      action: `${path}/reset/${token}`,
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx, token)),
      minLength,
      requirements: passwordRequirements(t, policy),
      error: error === undefined ? undefined : typeof error === 'string' ? t(error, { min: String(minLength) }) : error.text,
    }, error === undefined ? 200 : 400);
  }

  const { factors, passkeys, challengeKey } = deps.secondFactor;
  const challengeOf = (token: string) => passkeyChallenge(challengeKey, token, 'password-reset');

  /** The second factors the ticket's user must pass first; none once passed (or when they have none). */
  async function pendingFactors(ticket: ResetTicket): Promise<{ code: boolean; passkey: boolean } | undefined> {
    if (ticket.secondFactor !== undefined) return undefined;
    const [status, keys] = await Promise.all([factors.status(ticket.userId), passkeys.list(ticket.userId)]);
    const pending = { code: status.enrolled || status.recoveryCodesLeft > 0, passkey: keys.length > 0 };
    return pending.code || pending.passkey ? pending : undefined;
  }

  async function secondFactorForm(ctx: Context, locale: Locale, token: string, ticket: ResetTicket, pending: { code: boolean; passkey: boolean }, error?: string) {
    const t = views.translate(locale);
    const shown = error ?? (pending.passkey && !pending.code && !passkeys.usable ? 'passkey.unavailable' : undefined);
    await sendPage(ctx, views, 'password-reset-mfa', locale, {
      title: t('password_reset_mfa.title'),
      code: pending.code,
      codeAction: `${path}/reset/${token}/verify`,
      passkeyAction: `${path}/reset/${token}/passkey`,
      // No passkey where browsers cannot use one (an issuer on an IP address); with nothing else to offer, the page says why.
      passkey: pending.passkey && passkeys.usable ? embedJson(await passkeys.authenticationOptions(ticket.userId, challengeOf(token))) : undefined,
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx, token)),
      error: shown === undefined ? undefined : t(shown, { period: String((await factors.status(ticket.userId)).totpParameters?.period ?? DEFAULT_TOTP.period) }),
    }, error === undefined ? 200 : 400);
  }

  /** Shows the step the link is at: its second factor, else the new-password form. */
  async function resetStep(ctx: Context, locale: Locale, token: string, ticket: ResetTicket, error?: string) {
    const pending = await pendingFactors(ticket);
    if (pending !== undefined) return secondFactorForm(ctx, locale, token, ticket, pending, error);
    return resetForm(ctx, locale, token);
  }

  function afterFactor(ctx: Context, token: string): void {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${path}/reset/${token}`);
  }

  async function sendResetMail(login: string, locale: Locale, ip: string): Promise<void> {
    const user = await deps.accounts.findByLogin(login);
    if (user === undefined || user.disabled || user.email === null || deps.mail === undefined) return;
    const token = await deps.resets.issue(user.id);
    deps.audit?.({ type: 'user.password_reset_requested', userId: user.id }, ip);
    await deps.mail.send('password_reset', user.email, locale, {
      name: displayName(user),
      link: `${deps.publicBase}/reset/${token}`,
      minutes: await minutes(),
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
    const login = (form.login ?? '').trim();
    // Counted per typed login, known or not, and silently: a refused request answers like any other.
    const key = login === '' ? '' : loginKey(login);
    if (key !== '' && (await deps.limits.login.retryAfter(key)) === 0) {
      await deps.limits.login.fail(key);
      sendResetMail(login, locale, ctx.ip).catch((error: unknown) => deps.logger.error({ err: error }, 'password reset email not prepared'));
    }
    return message(ctx, locale, 'password_forgot_sent', signInLink(form.interaction));
  });

  /**
   * A route of a reset link: no referrer (the token is in the URL), a CSRF-checked form when
   * posted, and the link's ticket; an unknown, expired or used link gets the same page.
   */
  const linkRoute =
    (step: (ctx: Context, link: { locale: Locale; token: string; ticket: ResetTicket; form: Record<string, string> }) => Promise<void>) =>
    async (ctx: Context & { params: Record<string, string> }) => {
      const locale = localeOf(ctx);
      ctx.set('Referrer-Policy', 'no-referrer');
      const token = ctx.params.token!;
      const form = ctx.method === 'POST' ? await requireCsrf(ctx, token) : {};
      const ticket = await deps.resets.check(token);
      if (ticket === undefined) return invalidLink(ctx, locale);
      return step(ctx, { locale, token, ticket, form });
    };

  router.get(`${path}/reset/:token`, linkRoute((ctx, { locale, token, ticket }) => resetStep(ctx, locale, token, ticket)));

  // The second factor, before the new password: a code from the app or a recovery code
  // (wrong codes count toward the sign-in lockout, like at sign-in) ...
  router.post(`${path}/reset/:token/verify`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    const pending = await pendingFactors(ticket);
    if (pending === undefined || !pending.code) return afterFactor(ctx, token);
    const result = await factors.verify(ticket.userId, form.code ?? '', ctx.ip);
    if (!result.ok) return secondFactorForm(ctx, locale, token, ticket, pending, 'mfa.code_failed');
    if (!(await deps.resets.passSecondFactor(token, result.method))) return invalidLink(ctx, locale);
    return afterFactor(ctx, token);
  }));

  // ... or one of the user's passkeys, with a challenge bound to this link.
  router.post(`${path}/reset/:token/passkey`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    const pending = await pendingFactors(ticket);
    if (pending === undefined || !pending.passkey) return afterFactor(ctx, token);
    if (!passkeys.usable) return secondFactorForm(ctx, locale, token, ticket, pending, 'passkey.unavailable');
    const checked = await passkeys.authenticate(form.response, challengeOf(token), ticket.userId);
    if (!checked.ok) return secondFactorForm(ctx, locale, token, ticket, pending, 'passkey.failed');
    if (!(await deps.resets.passSecondFactor(token, 'passkey'))) return invalidLink(ctx, locale);
    return afterFactor(ctx, token);
  }));

  router.post(`${path}/reset/:token`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    // A form posted without the second factor (forged, or from before a factor was added): ask for it.
    if ((await pendingFactors(ticket)) !== undefined) return resetStep(ctx, locale, token, ticket);
    const password = form.password ?? '';
    if (password !== (form.confirm ?? '')) return resetForm(ctx, locale, token, 'password_reset.mismatch');
    try {
      // Every rule, the user's own earlier passwords included, before the one-time link is used up.
      await deps.accounts.checkNewPassword(ticket.userId, password);
    } catch (error) {
      if (!(error instanceof PasswordPolicyError)) throw error;
      // "One of your last passwords" says what the current password is: a few per link only.
      if (error.unmet.some((one) => one.rule === 'history') && !(await deps.resets.refuseReused(token))) return invalidLink(ctx, locale);
      return resetForm(ctx, locale, token, { text: unmetRequirements(views.translate(locale), error.unmet) });
    }
    const used = await deps.resets.consume(token);
    if (used === undefined) return invalidLink(ctx, locale);
    const { userId } = used;
    await deps.accounts.setPassword(userId, password);
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
  }));

  return router;
}
