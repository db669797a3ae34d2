import type Router from '@koa/router';
import type { Context } from 'koa';
import { PasswordPolicyError } from '../accounts/errors.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import type { PasswordResets, ResetTicket } from '../accounts/password-resets.ts';
import type { Factors } from '../mfa/factors.ts';
import { passkeyChallenge, type Passkeys } from '../mfa/passkeys.ts';
import { DEFAULT_TOTP } from '../mfa/totp.ts';
import { readForm } from './body.ts';
import { browserSession, checkCsrfToken, issueCsrfToken, type CsrfBinding } from './csrf.ts';
import type { Locale } from './i18n.ts';
import { CsrfError } from './page-errors.ts';
import { passwordRequirements, unmetRequirements } from './password-rules.ts';
import { sendPage } from './send-page.ts';
import { embedJson } from './steps/embed.ts';
import type { Views } from './views.ts';

/** The user's second factors, which a link must pass before it sets the password (src/mfa). */
export interface ResetSecondFactor {
  readonly factors: Pick<Factors, 'status' | 'verify'>;
  readonly passkeys: Pick<Passkeys, 'usable' | 'list' | 'authenticationOptions' | 'authenticate'>;
  /** deriveKey(secret, 'passkey-challenges'): binds a passkey challenge to the link. */
  readonly challengeKey: Buffer;
}

/** What the steps of every password link share (the reset pages' and the invitations' routers). */
export interface PasswordLinkDeps {
  readonly views: Views;
  readonly secureCookies: boolean;
  /** The CSRF cookie's path (the routes table's `<password>`). */
  readonly cookiePath: string;
  readonly accounts: { setPassword(id: string, password: string): Promise<void>; checkNewPassword(id: string, password: string): Promise<void> };
  /** The password policy in force (a runtime setting), read for each form. */
  readonly policy: () => Promise<PasswordPolicy>;
  readonly secondFactor: ResetSecondFactor;
  /** The page's language (negotiated, kept in ctx.state for the error pages). */
  readonly localeOf: (ctx: Context) => Locale;
}

/** One kind of link that sets a password: a reset (`<password>/reset/:token`) or an invitation. */
export interface PasswordLinkKind {
  /** The link's path without its token: `<password>/reset`. */
  readonly base: string;
  /** Names the link's forms in their CSRF binding and its passkey challenges. */
  readonly purpose: 'password-reset' | 'invitation';
  /** Locale keys of the new-password form: `<copy>.title`, `.lead`, `.password_label`, `.confirm_label`, `.submit`. */
  readonly copy: string;
  readonly links: PasswordResets;
  /** An unknown, used, replaced or expired link (400). */
  readonly invalidLink: (ctx: Context, locale: Locale) => Promise<void>;
  /** After the link was used up and the password set: revocations, audit, mail, the page that follows. */
  readonly finish: (ctx: Context, locale: Locale, used: ResetTicket) => Promise<void>;
}

/**
 * The steps of an emailed link that sets a password, on `kind.base/:token`: the user's second
 * factor first when they have one (a code, a recovery code or a passkey bound to the link),
 * then the new password typed twice under the policy in force, history included, checked before
 * the one-time link is used up. No referrer leaves these pages (the token is in the URL); every
 * form is CSRF-checked; an unknown, expired or used link gets the same page.
 */
export function passwordLinkSteps(router: Router, deps: PasswordLinkDeps, kind: PasswordLinkKind): void {
  const { views, localeOf } = deps;
  const { base, links } = kind;
  const csrfCookie = { secure: deps.secureCookies, path: deps.cookiePath };

  /** A form's CSRF token is bound to the browser's sign-in session and to the link. */
  const bindingOf = (ctx: Context, token: string): CsrfBinding => ({ session: browserSession(ctx), form: `${kind.purpose}:${token}` });

  async function requireCsrf(ctx: Context, token: string): Promise<Record<string, string>> {
    const form = await readForm(ctx);
    if (!checkCsrfToken(ctx, form.csrf, bindingOf(ctx, token))) throw new CsrfError();
    return form;
  }

  /** `error`: a locale key, or (a broken password policy) the message itself. */
  async function passwordForm(ctx: Context, locale: Locale, token: string, error?: string | { readonly text: string }) {
    const t = views.translate(locale);
    const policy = await deps.policy();
    const { minLength } = policy;
    await sendPage(ctx, views, 'password-reset', locale, {
      title: t(`${kind.copy}.title`),
      copy: kind.copy,
      action: `${base}/${token}`,
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx, token)),
      minLength,
      requirements: passwordRequirements(t, policy),
      error: error === undefined ? undefined : typeof error === 'string' ? t(error, { min: String(minLength) }, minLength) : error.text,
    }, error === undefined ? 200 : 400);
  }

  const { factors, passkeys, challengeKey } = deps.secondFactor;
  const challengeOf = (token: string) => passkeyChallenge(challengeKey, token, kind.purpose);

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
      codeAction: `${base}/${token}/verify`,
      passkeyAction: `${base}/${token}/passkey`,
      // No passkey where browsers cannot use one (an issuer on an IP address); with nothing else to offer, the page says why.
      passkey: pending.passkey && passkeys.usable ? embedJson(await passkeys.authenticationOptions(ticket.userId, challengeOf(token))) : undefined,
      csrf: issueCsrfToken(ctx, csrfCookie, bindingOf(ctx, token)),
      error: shown === undefined ? undefined : t(shown, { period: String((await factors.status(ticket.userId)).totpParameters?.period ?? DEFAULT_TOTP.period) }),
    }, error === undefined ? 200 : 400);
  }

  /** Shows the step the link is at: its second factor, else the new-password form. */
  async function linkStep(ctx: Context, locale: Locale, token: string, ticket: ResetTicket, error?: string) {
    const pending = await pendingFactors(ticket);
    if (pending !== undefined) return secondFactorForm(ctx, locale, token, ticket, pending, error);
    return passwordForm(ctx, locale, token);
  }

  function afterFactor(ctx: Context, token: string): void {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${base}/${token}`);
  }

  /** A route of a link: no referrer, a CSRF-checked form when posted, and the link's ticket. */
  const linkRoute =
    (step: (ctx: Context, link: { locale: Locale; token: string; ticket: ResetTicket; form: Record<string, string> }) => Promise<void>) =>
    async (ctx: Context & { params: Record<string, string> }) => {
      const locale = localeOf(ctx);
      ctx.set('Referrer-Policy', 'no-referrer');
      const token = ctx.params.token!;
      const form = ctx.method === 'POST' ? await requireCsrf(ctx, token) : {};
      const ticket = await links.check(token);
      if (ticket === undefined) return kind.invalidLink(ctx, locale);
      return step(ctx, { locale, token, ticket, form });
    };

  router.get(`${base}/:token`, linkRoute((ctx, { locale, token, ticket }) => linkStep(ctx, locale, token, ticket)));

  // The second factor, before the new password: a code from the app or a recovery code
  // (wrong codes count toward the sign-in lockout, like at sign-in) ...
  router.post(`${base}/:token/verify`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    const pending = await pendingFactors(ticket);
    if (pending === undefined || !pending.code) return afterFactor(ctx, token);
    const result = await factors.verify(ticket.userId, form.code ?? '', ctx.ip);
    if (!result.ok) return secondFactorForm(ctx, locale, token, ticket, pending, 'mfa.code_failed');
    if (!(await links.passSecondFactor(token, result.method))) return kind.invalidLink(ctx, locale);
    return afterFactor(ctx, token);
  }));

  // ... or one of the user's passkeys, with a challenge bound to this link.
  router.post(`${base}/:token/passkey`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    const pending = await pendingFactors(ticket);
    if (pending === undefined || !pending.passkey) return afterFactor(ctx, token);
    if (!passkeys.usable) return secondFactorForm(ctx, locale, token, ticket, pending, 'passkey.unavailable');
    const checked = await passkeys.authenticate(form.response, challengeOf(token), ticket.userId);
    if (!checked.ok) return secondFactorForm(ctx, locale, token, ticket, pending, 'passkey.failed');
    if (!(await links.passSecondFactor(token, 'passkey'))) return kind.invalidLink(ctx, locale);
    return afterFactor(ctx, token);
  }));

  router.post(`${base}/:token`, linkRoute(async (ctx, { locale, token, ticket, form }) => {
    // A form posted without the second factor (forged, or from before a factor was added): ask for it.
    if ((await pendingFactors(ticket)) !== undefined) return linkStep(ctx, locale, token, ticket);
    const password = form.password ?? '';
    if (password !== (form.confirm ?? '')) return passwordForm(ctx, locale, token, 'password_reset.mismatch');
    try {
      // Every rule, the user's own earlier passwords included, before the one-time link is used up.
      await deps.accounts.checkNewPassword(ticket.userId, password);
    } catch (error) {
      if (!(error instanceof PasswordPolicyError)) throw error;
      // "One of your last passwords" says what the current password is: a few per link only.
      if (error.unmet.some((one) => one.rule === 'history') && !(await links.refuseReused(token))) return kind.invalidLink(ctx, locale);
      return passwordForm(ctx, locale, token, { text: unmetRequirements(views.translate(locale), error.unmet) });
    }
    const used = await links.consume(token);
    if (used === undefined) return kind.invalidLink(ctx, locale);
    await deps.accounts.setPassword(used.userId, password);
    return kind.finish(ctx, locale, used);
  }));
}
