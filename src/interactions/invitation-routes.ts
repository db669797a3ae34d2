import Router from '@koa/router';
import type { Context } from 'koa';
import type { Invitations } from '../accounts/invitations.ts';
import type { PasswordPolicy } from '../accounts/password-policy.ts';
import type { ReturnTo } from '../accounts/password-resets.ts';
import type { Logger } from '../observability/logger.ts';
import type { Locale } from './i18n.ts';
import { plainSentence } from './breakable.ts';
import { chosenLocale } from './language.ts';
import { pageErrors } from './page-errors.ts';
import { passwordLinkSteps, type ResetSecondFactor } from './password-link-steps.ts';
import { sendPage } from './send-page.ts';
import type { Views } from './views.ts';

/** The account operations accepting an invitation needs (src/accounts/accounts.ts). */
export interface InvitedAccounts {
  findById(id: string): Promise<{ readonly email: string | null } | undefined>;
  setPassword(id: string, password: string): Promise<void>;
  checkNewPassword(id: string, password: string): Promise<void>;
  /** Marks the address verified while it is still the user's (they proved the mailbox). */
  verifyEmail(id: string, email: string): Promise<boolean>;
  unlock(id: string): Promise<number>;
}

export interface InvitationAccepted {
  readonly type: 'user.invitation_accepted';
  readonly userId: string;
  readonly secondFactor: string | null;
  readonly emailVerified: boolean;
  readonly lockoutsCleared: number;
  /** The application the invitation was sent for, when it still takes that redirect URI. */
  readonly clientId: string | null;
}

export interface InvitationRouteDeps {
  readonly views: Views;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** `<password>`: invitation links are `<password>/invitation/:token` (and share the reset pages' CSRF cookie path). */
  readonly path: string;
  readonly accounts: InvitedAccounts;
  readonly invitations: Invitations;
  readonly policy: () => Promise<PasswordPolicy>;
  readonly secondFactor: ResetSecondFactor;
  /** Ends every session, grant and refresh token of the user (as a reset does). */
  readonly revokeAll: (userId: string) => Promise<void>;
  /** Whatever else accepting it finishes for the user (their pending required actions). */
  readonly accepted?: (userId: string) => Promise<void>;
  /** The invitation's application (its redirect URI, its name) while that client still registers that URI exactly; else undefined. */
  readonly returnLink: (returnTo: ReturnTo) => Promise<{ readonly href: string; readonly name: string } | undefined>;
  readonly audit?: (event: InvitationAccepted, ip: string) => void;
  /** Where people sign in afterwards: the account page (`<account>/`). */
  readonly accountPage: string;
}

/**
 * The page an invitation's link opens: "Set your password" (the user's second factor first, if
 * they have one), through the same steps as a reset link (password-link-steps.ts). Setting it
 * also confirms the address (the link reached that mailbox), ends the user's sessions and
 * lockouts, and leads to the application the invitation named, else to signing in on the account
 * page. Invitations work whether or not "Forgot password?" is offered.
 */
export function invitationRoutes(deps: InvitationRouteDeps): Router {
  const router = new Router();
  const { views, path } = deps;
  router.use(pageErrors(views, deps.logger, path));

  function localeOf(ctx: Context): Locale {
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    ctx.state.locale = locale;
    return locale;
  }

  /** `values`: names in the lead and the link (an application's), each isolated (its text escaped by the page). */
  async function message(ctx: Context, locale: Locale, key: string, link: { href: string; label: string }, status = 200, values: Readonly<Record<string, string>> = {}) {
    const t = views.translate(locale);
    const say = (name: string) => plainSentence(t, name, values);
    await sendPage(ctx, views, 'password-message', locale, { title: t(`${key}.title`), lead: say(`${key}.lead`), link: { href: link.href, label: say(link.label), primary: true } }, status);
  }

  passwordLinkSteps(router, { views, secureCookies: deps.secureCookies, cookiePath: path, accounts: deps.accounts, policy: deps.policy, secondFactor: deps.secondFactor, localeOf }, {
    base: `${path}/invitation`,
    purpose: 'invitation',
    copy: 'invitation',
    links: deps.invitations,
    invalidLink: (ctx, locale) => message(ctx, locale, 'invitation_invalid', { href: deps.accountPage, label: 'self_service_links.sign_in' }, 400),
    async finish(ctx, locale, used) {
      const { userId } = used;
      const email = (await deps.accounts.findById(userId))?.email ?? null;
      const emailVerified = email !== null && (await deps.accounts.verifyEmail(userId, email));
      await deps.accepted?.(userId);
      await deps.revokeAll(userId);
      const lockoutsCleared = await deps.accounts.unlock(userId);
      const back = used.returnTo === undefined ? undefined : await deps.returnLink(used.returnTo);
      deps.audit?.({ type: 'user.invitation_accepted', userId, secondFactor: used.secondFactor ?? null, emailVerified, lockoutsCleared, clientId: back === undefined ? null : used.returnTo!.clientId }, ctx.ip);
      if (back !== undefined) return message(ctx, locale, 'invitation_done_app', { href: back.href, label: 'invitation_done.continue' }, 200, { app: back.name });
      return message(ctx, locale, 'invitation_done', { href: deps.accountPage, label: 'self_service_links.sign_in' });
    },
  });

  return router;
}
