import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { AuditSink } from '../observability/audit-trail.ts';
import type { Logger } from '../observability/logger.ts';
import { ACR } from '../oidc/acr.ts';
import type { UpstreamDirectory, UpstreamProvider } from '../upstream/directory.ts';
import type { LinkTickets } from '../upstream/link-tickets.ts';
import { usable } from '../upstream/usable.ts';
import type { LinkOutcome, PendingIdentity, RefusalReason, UpstreamLinking } from '../upstream/linking.ts';
import { UpstreamError, type UpstreamProtocol, type UpstreamTransaction } from '../upstream/protocol.ts';
import { resumeInteraction } from './engine.ts';
import { sealIdToken, type UpstreamSessionResult } from './upstream-logout.ts';
import { chosenLocale } from './language.ts';
import { sendPage } from './send-page.ts';
import type { LoginExtension } from './steps/password.ts';
import type { InteractionResults, StepContext } from './steps/step.ts';
import type { Views } from './views.ts';
import { isolate } from './breakable.ts';

/**
 * Sign in with another provider: the buttons and the pending-link notice on the sign-in page
 * (a LoginExtension of the password step), the start of the upstream leg
 * (GET <interaction>/:uid/upstream/:alias) and its callback (GET <upstream>/:alias/callback,
 * the redirect URI registered at the upstream, one per provider so a response can never be
 * taken for another provider's: mix-up defence together with the RFC 9207 `iss` check).
 *
 * The leg is bound to the browser and to the interaction by a cookie that holds the state,
 * nonce, PKCE verifier and interaction uid, sealed (AES-GCM) and scoped to the callback path;
 * the callback clears it, so a replayed callback finds nothing. Every failure ends on a
 * localized page with a way back to the sign-in, never a 500.
 */
export interface UpstreamSignInDeps {
  readonly provider: () => Provider;
  readonly directory: UpstreamDirectory;
  /** Every provider, from the instance's short copy (src/upstream/provider-list.ts): read on every sign-in page. */
  readonly listed: () => Promise<readonly UpstreamProvider[]>;
  readonly protocol: UpstreamProtocol;
  readonly linking: UpstreamLinking;
  readonly views: Views;
  readonly logger: Logger;
  readonly audit: AuditSink;
  /** createSecretBox(secret, 'upstream-transactions'). */
  readonly box: SecretBox;
  /** The routes table's paths. */
  readonly paths: { readonly interaction: string; readonly upstream: string };
  /** Scheme, host and port the upstream sends the browser back to. */
  readonly publicOrigin: string;
  readonly secureCookies: boolean;
  /** The account page's "Connect <provider>" (absent: no linking from the account page). */
  readonly accountLinking?: {
    readonly tickets: LinkTickets;
    /** The account page's URL; the outcome goes back in its fragment. */
    readonly accountUrl: string;
  };
  readonly now?: () => number;
}

export const UPSTREAM_COOKIE = 'gatehouse.upstream';
/** In an interaction result: the account a pending identity is linked to once its second factor is passed. */
const LINK_AFTER_FACTOR = 'upstreamLinkAfterSecondFactor';
/** In a finished interaction's result: what the created-without-email notice says (its page re-reads it in each language). */
const CREATED_NOTICE = 'upstreamCreatedWithoutEmail';
/** The notice's page, under the interaction (its cookie's path): GET, so the language switcher shows it again. */
const NOTICE_PAGE = 'upstream-created';

interface CreatedNotice {
  readonly email: string;
  readonly provider: string;
}

function noticeOf(result: unknown): CreatedNotice | undefined {
  const notice = (result as Record<string, unknown> | undefined)?.[CREATED_NOTICE] as Partial<CreatedNotice> | null | undefined;
  return typeof notice?.email === 'string' && typeof notice.provider === 'string' ? { email: notice.email, provider: notice.provider } : undefined;
}
const TRANSACTION_AAD = 'upstream-transaction';
/** How long the person may spend at the upstream. */
const TRANSACTION_TTL_MS = 10 * 60_000;

type PageReason = 'denied' | 'failed' | 'unreachable' | 'state' | 'not_allowed' | RefusalReason;

export { usable };

const upstreamFailure = (error: unknown): UpstreamError => (error instanceof UpstreamError ? error : new UpstreamError('failed', String(error)));

export function upstreamSignIn(deps: UpstreamSignInDeps): { readonly routes: Router; readonly extension: LoginExtension } {
  const { directory, protocol, linking, views, paths } = deps;
  const now = deps.now ?? Date.now;
  const cookie = { path: paths.upstream, httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, signed: false, overwrite: true };
  const callbackUrl = (alias: string) => `${deps.publicOrigin}${paths.upstream}/${encodeURIComponent(alias)}/callback`;
  const startHref = (uid: string, alias: string) => `${paths.interaction}/${encodeURIComponent(uid)}/upstream/${encodeURIComponent(alias)}`;
  const backHref = (uid: string) => `${paths.interaction}/${encodeURIComponent(uid)}`;

  function readTransaction(ctx: Context): UpstreamTransaction | undefined {
    const sealed = ctx.cookies.get(UPSTREAM_COOKIE, { signed: false });
    if (sealed === undefined || sealed === '') return undefined;
    try {
      return JSON.parse(deps.box.open(sealed, TRANSACTION_AAD)) as UpstreamTransaction;
    } catch {
      return undefined;
    }
  }

  /** Seals the leg's transaction into its cookie and sends the browser to the upstream. */
  function toUpstream(ctx: Context, url: URL, transaction: UpstreamTransaction): void {
    ctx.cookies.set(UPSTREAM_COOKIE, deps.box.seal(JSON.stringify(transaction), TRANSACTION_AAD), { ...cookie, maxAge: TRANSACTION_TTL_MS });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  async function errorPage(ctx: Context, reason: PageReason, provider: string, back: string | undefined): Promise<void> {
    const locale = (ctx.state.locale as ReturnType<Views['negotiate']> | undefined) ?? views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    const t = views.translate(locale);
    const status = reason === 'unreachable' ? 502 : reason === 'failed' ? 502 : 400;
    await sendPage(ctx, views, 'upstream-error', locale, { title: t('upstream.error_title'), message: t(`upstream.${reason}`, { provider: isolate(provider) }), backHref: back }, status);
  }

  function refusal(provider: string, reason: string, client: unknown, details: Record<string, unknown> = {}): void {
    deps.audit.record({
      type: 'upstream.refused',
      actor: { type: 'anonymous', id: null },
      client: typeof client === 'string' ? client : null,
      target: { type: 'upstream_provider', id: provider },
      details: { provider, reason, ...details },
    });
  }

  const loginOf = (outcome: Extract<LinkOutcome, { kind: 'signed_in' }>, remember = true): InteractionResults['login'] => ({
    accountId: outcome.userId,
    remember,
    amr: outcome.amr,
    // The upstream's own multi-factor sign-in counts as one here only when it says so.
    acr: outcome.amr.includes('mfa') ? ACR.multiFactor : ACR.singleFactor,
  });

  const router = new Router();

  /**
   * The created-without-email notice of a finished sign-in (createdWithoutEmail), in the language
   * negotiated now: its language links come back here, not to the sign-in page. Only for the
   * browser holding the interaction's cookie, and only until the authorization resumes.
   */
  router.get(`${paths.interaction}/:uid/${NOTICE_PAGE}`, async (ctx) => {
    const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
    const locale = views.negotiate(chosenLocale(ctx) ?? details.params.ui_locales, ctx.get('accept-language'));
    ctx.state.locale = locale;
    const notice = details.uid === ctx.params.uid ? noticeOf(details.result) : undefined;
    if (notice === undefined) return ctx.redirect(backHref(details.uid));
    const t = views.translate(locale);
    const heading = t('upstream.created_title');
    const lead = t('upstream.created_without_email', { email: isolate(notice.email), provider: isolate(notice.provider) });
    await sendPage(ctx, views, 'upstream-continue', locale, { title: heading, heading, lead, continueHref: details.returnTo });
  });

  /** Starts the upstream leg of a pending sign-in. */
  router.get(`${paths.interaction}/:uid/upstream/:alias`, async (ctx) => {
    const provider = deps.provider();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.state.locale = views.negotiate(chosenLocale(ctx) ?? details.params.ui_locales, ctx.get('accept-language'));
    const back = backHref(details.uid);
    if (details.prompt.name !== 'login') return ctx.redirect(back);
    const alias = ctx.params.alias!;
    const idp = await directory.get(alias);
    if (!usable(idp, details.params.client_id)) {
      refusal(alias, 'not_allowed', details.params.client_id);
      return errorPage(ctx, 'not_allowed', idp?.display_name ?? alias, back);
    }
    try {
      const hint = typeof ctx.query.login_hint === 'string' ? ctx.query.login_hint : details.params.login_hint;
      const extra: Record<string, string> = typeof hint === 'string' && hint !== '' ? { login_hint: hint } : {};
      const { url, transaction } = await protocol.begin(idp!, details.uid, callbackUrl(alias), extra);
      toUpstream(ctx, url, transaction);
    } catch (error) {
      const failure = upstreamFailure(error);
      deps.logger.warn({ provider: alias, reason: failure.reason, err: failure.message }, 'upstream sign-in could not start');
      refusal(alias, failure.reason, details.params.client_id);
      return errorPage(ctx, failure.reason, idp!.display_name, back);
    }
  });

  /** Back to the account page's sign-in methods with the outcome of a "Connect". */
  async function backToAccount(ctx: Context, alias: string, outcome: string): Promise<void> {
    const target = `${deps.accountLinking!.accountUrl}#/security?${new URLSearchParams({ upstream: outcome, provider: alias })}`;
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    // Not a 303: this may end a chain that began with a form at the upstream (see below).
    ctx.set('Refresh', `0;url=${target}`);
    await sendPage(ctx, views, 'upstream-continue', locale, { title: views.translate(locale)('upstream.continue_title'), continueHref: target });
  }

  if (deps.accountLinking !== undefined) {
    const { tickets } = deps.accountLinking;
    /** The account page's "Connect <provider>": a one-time ticket from the account API starts a leg bound to its user. */
    router.get(`${paths.upstream}/:alias/link`, async (ctx) => {
      const alias = ctx.params.alias!;
      const ticket = typeof ctx.query.ticket === 'string' ? await tickets.take(ctx.query.ticket, alias) : undefined;
      if (ticket === undefined) return backToAccount(ctx, alias, 'expired');
      // Only the ticket's user's own browser (signed in here as them) carries it on: a Connect URL
      // sent to someone else would link *their* upstream account to the sender's (linking CSRF).
      const session = await deps.provider().Session.get(ctx as unknown as Parameters<Provider['Session']['get']>[0]);
      if (session.accountId !== ticket.userId) {
        refusal(alias, 'state', ACCOUNT_CLIENT_ID, { cause: 'link_other_browser' });
        return backToAccount(ctx, alias, 'expired');
      }
      const idp = await directory.get(alias);
      if (!usable(idp, ACCOUNT_CLIENT_ID)) {
        refusal(alias, 'not_allowed', ACCOUNT_CLIENT_ID);
        return backToAccount(ctx, alias, 'not_allowed');
      }
      try {
        const { url, transaction } = await protocol.begin(idp!, '', callbackUrl(alias));
        toUpstream(ctx, url, { ...transaction, link: { userId: ticket.userId } });
      } catch (error) {
        const failure = upstreamFailure(error);
        deps.logger.warn({ provider: alias, reason: failure.reason, err: failure.message }, 'upstream linking could not start');
        return backToAccount(ctx, alias, failure.reason);
      }
    });
  }

  /** The end of a "Connect" leg: link the identity to the user the ticket named. */
  async function finishLink(ctx: Context, alias: string, transaction: UpstreamTransaction & { link: { userId: string } }): Promise<void> {
    const idp = await directory.get(alias);
    if (deps.accountLinking === undefined || !usable(idp, ACCOUNT_CLIENT_ID)) return backToAccount(ctx, alias, 'not_allowed');
    try {
      const identity = await protocol.finish(idp!, new URL(ctx.originalUrl, deps.publicOrigin), transaction, callbackUrl(alias));
      const outcome = await linking.linkToUser(idp!, identity, transaction.link.userId);
      return backToAccount(ctx, alias, outcome.kind === 'refused' ? outcome.reason : outcome.kind);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      deps.logger.warn({ provider: alias, reason: error.reason, upstreamError: error.upstreamCode, err: error.message }, 'upstream linking failed');
      refusal(alias, error.reason, ACCOUNT_CLIENT_ID, error.upstreamCode === undefined ? {} : { error: error.upstreamCode });
      return backToAccount(ctx, alias, error.reason);
    }
  }

  /** The upstream sends the browser back here. */
  router.get(`${paths.upstream}/:alias/callback`, async (ctx) => {
    const alias = ctx.params.alias!;
    const transaction = readTransaction(ctx);
    // One use: whatever happens next, this leg is over.
    ctx.cookies.set(UPSTREAM_COOKIE, null, cookie);
    const state = ctx.query.state;
    const fresh = transaction !== undefined && now() - transaction.at < TRANSACTION_TTL_MS;
    if (!fresh || transaction.alias !== alias || typeof state !== 'string' || state !== transaction.state) {
      if (transaction?.link !== undefined && deps.accountLinking !== undefined) {
        refusal(alias, 'state', ACCOUNT_CLIENT_ID, { cause: 'link' });
        return backToAccount(ctx, alias, 'state');
      }
      refusal(alias, 'state', undefined, { cause: transaction === undefined ? 'no_transaction' : !fresh ? 'expired' : transaction.alias !== alias ? 'provider_mismatch' : 'state_mismatch' });
      const idp = await directory.get(alias);
      return errorPage(ctx, 'state', idp?.display_name ?? alias, transaction === undefined ? undefined : backHref(transaction.uid));
    }
    if (transaction.link !== undefined) return finishLink(ctx, alias, { ...transaction, link: transaction.link });
    const provider = deps.provider();
    const back = backHref(transaction.uid);
    const interaction = await provider.Interaction.find(transaction.uid);
    if (interaction === undefined) {
      refusal(alias, 'state', undefined, { cause: 'interaction_expired' });
      return errorPage(ctx, 'state', alias, undefined);
    }
    const clientId = interaction.params.client_id;
    ctx.state.locale = views.negotiate(chosenLocale(ctx) ?? interaction.params.ui_locales, ctx.get('accept-language'));
    const idp = await directory.get(alias);
    if (!usable(idp, clientId)) {
      refusal(alias, 'not_allowed', clientId);
      return errorPage(ctx, 'not_allowed', idp?.display_name ?? alias, back);
    }
    let outcome: LinkOutcome;
    let session: UpstreamSessionResult;
    try {
      const identity = await protocol.finish(idp!, new URL(ctx.originalUrl, deps.publicOrigin), transaction, callbackUrl(alias));
      // For upstream logout at sign-out (src/interactions/upstream-logout.ts); sealed, never logged.
      session = { provider: alias, idToken: sealIdToken(deps.box, identity.idToken) };
      outcome = await linking.resolve(idp!, identity, typeof clientId === 'string' ? clientId : undefined);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      deps.logger.warn({ provider: alias, reason: error.reason, upstreamError: error.upstreamCode, err: error.message }, 'upstream sign-in failed');
      refusal(alias, error.reason, clientId, error.upstreamCode === undefined ? {} : { error: error.upstreamCode });
      return errorPage(ctx, error.reason, idp!.display_name, back);
    }
    if (outcome.kind === 'refused') return errorPage(ctx, outcome.reason, idp!.display_name, back);
    const result: InteractionResults = outcome.kind === 'signed_in' ? { login: loginOf(outcome), upstream: null, upstreamSession: session } : { upstream: outcome.pending, upstreamSession: session };
    // The interaction's expiry is the provider's, on the system clock.
    const resume = await resumeInteraction(provider, transaction.uid, result);
    if (resume === undefined) return errorPage(ctx, 'state', idp!.display_name, undefined);
    if (outcome.kind === 'pending') {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      return ctx.redirect(resume);
    }
    // Not a redirect: this response may end a chain that began with a form at the upstream
    // (its sign-in page), and Chromium checks every redirect of that chain against the
    // upstream page's CSP form-action, which cannot know the application's origin. A page that
    // navigates on (Refresh) starts a new navigation, outside that chain.
    const locale = ctx.state.locale as ReturnType<Views['negotiate']>;
    ctx.set('Refresh', `0;url=${resume}`);
    await sendPage(ctx, views, 'upstream-continue', locale, { title: views.translate(locale)('upstream.continue_title'), continueHref: resume });
  });

  const pendingOf = (step: StepContext): PendingIdentity | undefined => {
    const value = step.previous.upstream as PendingIdentity | null | undefined;
    return value === null || value === undefined || typeof value.provider !== 'string' ? undefined : value;
  };

  async function buttons(step: StepContext) {
    const clientId = step.details.params.client_id;
    return (await deps.listed())
      // A hidden provider (hide_on_login) is reached by an IdP hint or its home domains only.
      .filter((idp) => usable(idp, clientId) && !idp.hide_on_login)
      .map((idp) => ({ alias: idp.alias, name: idp.display_name, icon: idp.icon_url, href: startHref(step.details.uid, idp.alias) }));
  }

  async function finishWith(step: StepContext, outcome: LinkOutcome, displayName: string): Promise<void> {
    if (outcome.kind === 'signed_in' && outcome.emailLeftOut !== undefined) return createdWithoutEmail(step, outcome, displayName);
    if (outcome.kind === 'signed_in') return step.finish({ login: loginOf(outcome), upstream: null });
    const reason = outcome.kind === 'refused' ? outcome.reason : 'failed';
    await step.render(
      { title: step.t('upstream.error_title'), message: step.t(`upstream.${reason}`, { provider: isolate(displayName) }), backHref: undefined },
      { view: 'upstream-error', status: 400 },
    );
  }

  /**
   * A new account that did not get the upstream's address (another account here holds it): the
   * sign-in is done, and a page says so before going on — an account silently without an
   * address leaves its owner wondering where their mail goes. It says the same whatever the
   * reason and names no account: the person sees only what their new account's page would show
   * them anyway (no address), about an address the upstream gave as theirs.
   */
  async function createdWithoutEmail(step: StepContext, outcome: Extract<LinkOutcome, { kind: 'signed_in' }>, displayName: string): Promise<void> {
    const notice: CreatedNotice = { email: outcome.emailLeftOut ?? '', provider: displayName };
    await step.complete({ login: loginOf(outcome), upstream: null, [CREATED_NOTICE]: notice });
    // To the notice's own page (GET): a page answering this form would have its language links
    // lead back to the sign-in page (src/interactions/language.ts returnPathOf), not to the notice.
    step.redirect(`${backHref(step.details.uid)}/${NOTICE_PAGE}`);
  }

  const extension: LoginExtension = {
    async model(step) {
      const pending = pendingOf(step);
      const idp = pending === undefined ? undefined : await directory.get(pending.provider);
      return {
        upstreamButtons: await buttons(step),
        upstreamPending: pending === undefined || idp === undefined ? undefined : { provider: idp.display_name, canCreate: idp.create_accounts && idp.enabled },
      };
    },
    async intercept(step) {
      const { params } = step.details;
      const hint = params.idp_hint ?? params.kc_idp_hint;
      if (typeof hint !== 'string' || hint === '' || pendingOf(step) !== undefined) return false;
      if (!usable(await directory.get(hint), params.client_id)) return false;
      step.redirect(startHref(step.details.uid, hint));
      return true;
    },
    async beforePassword(step, login) {
      const at = login.lastIndexOf('@');
      if (at < 0 || pendingOf(step) !== undefined) return false;
      const domain = login.slice(at + 1).toLowerCase();
      const idp = (await deps.listed()).find((candidate) => usable(candidate, step.details.params.client_id) && candidate.home_domains.includes(domain));
      if (idp === undefined) return false;
      // Not a 303: after a form post Chromium checks every redirect against this page's
      // form-action, which does not list the upstream's origin. A page that moves on (Refresh)
      // starts a new navigation.
      const href = `${startHref(step.details.uid, idp.alias)}?${new URLSearchParams({ login_hint: login })}`;
      step.koa.set('Refresh', `0;url=${href}`);
      const heading = step.t('upstream.continue_with', { name: isolate(idp.display_name) });
      await step.render({ title: heading, heading, continueHref: href }, { view: 'upstream-continue' });
      return true;
    },
    async afterPassword(step, accountId, remember) {
      const pending = pendingOf(step);
      if (pending === undefined) return undefined;
      const idp = await directory.get(pending.provider);
      const clientId = step.details.params.client_id;
      // The provider went away or was turned off meanwhile: an ordinary password sign-in.
      if (!usable(idp, clientId)) return { login: { accountId, remember, amr: ['pwd'], acr: ACR.singleFactor }, upstream: null };
      // An account with a second factor: its password alone links nothing (it would tie whoever
      // holds the upstream account to it, second factor and all). The sign-in goes on to that
      // factor, and the link is made once it is passed (afterSecondFactor).
      if (await linking.secondFactorFirst(accountId)) return { login: { accountId, remember, amr: ['pwd'], acr: ACR.singleFactor }, upstream: pending, [LINK_AFTER_FACTOR]: accountId };
      const outcome = await linking.linkPending(idp!, pending, accountId, typeof clientId === 'string' ? clientId : undefined);
      if (outcome.kind === 'signed_in') return { login: loginOf(outcome, remember), upstream: null };
      await finishWith(step, outcome, idp!.display_name);
      return 'answered';
    },
    async afterSecondFactor(step, result) {
      const pending = pendingOf(step);
      const accountId = result.login?.accountId;
      if (pending === undefined || accountId === undefined || step.previous[LINK_AFTER_FACTOR] !== accountId) return result;
      const done = { ...result, upstream: null, [LINK_AFTER_FACTOR]: null };
      const idp = await directory.get(pending.provider);
      const clientId = step.details.params.client_id;
      // The provider went away meanwhile: the local sign-in stands, nothing is linked.
      if (!usable(idp, clientId)) return done;
      const outcome = await linking.linkPending(idp!, pending, accountId, typeof clientId === 'string' ? clientId : undefined);
      // Refused (linked to someone else meanwhile): the local sign-in stands, nothing is linked.
      if (outcome.kind !== 'signed_in') return done;
      return { ...done, login: { ...result.login!, amr: [...new Set([...outcome.amr, ...(result.login!.amr ?? [])])] } };
    },
    actions: {
      /** Just-in-time account creation for a pending upstream identity. */
      async 'upstream-create'(step) {
        const pending = pendingOf(step);
        if (pending === undefined) return step.koa.throw(400, 'There is no upstream sign-in to create an account for.');
        const idp = await directory.get(pending.provider);
        const clientId = step.details.params.client_id;
        if (!usable(idp, clientId)) return finishWith(step, { kind: 'refused', reason: 'no_account' }, pending.provider);
        return finishWith(step, await linking.createFromPending(idp!, pending, typeof clientId === 'string' ? clientId : undefined), idp!.display_name);
      },
    },
  };

  return { routes: router, extension };
}
