import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { AfterResponseStep } from '../oidc/after-response.ts';
import type { AuditSink } from '../observability/audit-trail.ts';
import type { Logger } from '../observability/logger.ts';
import type { UpstreamDirectory } from '../upstream/directory.ts';
import type { UpstreamProtocol } from '../upstream/protocol.ts';
import type { UpstreamSessions } from '../upstream/sessions.ts';
import { chosenLocale } from './language.ts';
import { localeOf } from './provider-pages.ts';
import { sendPage } from './send-page.ts';
import type { Views } from './views.ts';
import { isolate } from './breakable.ts';

/**
 * Upstream logout (README "Sign in with another provider"): when a Gatehouse session was signed
 * in through an upstream provider with `upstream_logout`, ending that session (RP-initiated
 * logout, which the account page's sign-out also uses) continues to the upstream's
 * end-session endpoint, and the upstream sends the browser back to `<upstream>/:alias/logged-out`,
 * which continues to where Gatehouse's own logout was going.
 *
 * All of it rides on the library's flow, as a step after the provider's response
 * (src/oidc/after-response.ts) that looks at what the library did:
 * - after `resume`: a sign-in that came through an upstream (the interaction result's
 *   `upstreamSession`, set by the upstream callback) is remembered for the session's uid, with
 *   the upstream ID token for `id_token_hint` (sealed in the result and at rest);
 * - after `end_session_confirm`: when the library destroyed the session, its record is taken
 *   and, if the provider asks for upstream logout and has an end-session endpoint, the
 *   library's redirect (the client's validated post_logout_redirect_uri with its `state`, or the
 *   signed-out page) is kept in a sealed cookie and the browser goes to the upstream instead.
 * An unreachable upstream or one without an end-session endpoint leaves the library's redirect
 * as it is: the Gatehouse logout completes either way.
 */
export interface UpstreamLogoutDeps {
  readonly directory: UpstreamDirectory;
  readonly protocol: UpstreamProtocol;
  readonly sessions: UpstreamSessions;
  readonly views: Views;
  readonly logger: Logger;
  readonly audit: AuditSink;
  /** createSecretBox(secret, 'upstream-transactions'): the ID token inside the interaction and the return cookie. */
  readonly box: SecretBox;
  readonly paths: { readonly upstream: string };
  readonly publicOrigin: string;
  readonly secureCookies: boolean;
  /** The signed-out page (the provider's end_session_success), for a return without its cookie. */
  readonly signedOutUrl: string;
  readonly now?: () => number;
}

/** What the upstream callback leaves in the interaction result for the session. */
export interface UpstreamSessionResult {
  readonly provider: string;
  /** The upstream ID token, sealed with `sealIdToken`. */
  readonly idToken: string | null;
}

const ID_TOKEN_AAD = 'upstream-id-token';
const RETURN_AAD = 'upstream-logout-return';
export const UPSTREAM_LOGOUT_COOKIE = 'gatehouse.upstream-logout';
/** How long the person may spend at the upstream's end-session page. */
const RETURN_TTL_MS = 10 * 60_000;
/** When the session's own expiry is not known yet. */
const FALLBACK_SESSION_MS = 14 * 24 * 3600_000;

export function sealIdToken(box: SecretBox, idToken: string | undefined): string | null {
  return idToken === undefined ? null : box.seal(idToken, ID_TOKEN_AAD);
}

interface ReturnTicket {
  readonly alias: string;
  readonly state: string;
  readonly target: string;
  readonly at: number;
}

type ResumeResult = { login?: { accountId?: unknown }; upstreamSession?: UpstreamSessionResult | null } | undefined;

export function upstreamLogout(deps: UpstreamLogoutDeps): { readonly afterResponse: AfterResponseStep; readonly routes: Router } {
  const { directory, protocol, sessions, views, box, paths } = deps;
  const now = deps.now ?? Date.now;
  const cookie = { path: paths.upstream, httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, signed: false, overwrite: true };
  const returnUrl = (alias: string) => `${deps.publicOrigin}${paths.upstream}/${encodeURIComponent(alias)}/logged-out`;

  function record(type: 'upstream.logout', accountId: string, provider: string, outcome: string): void {
    deps.audit.record({ type, actor: { type: 'user', id: accountId }, client: null, target: { type: 'upstream_provider', id: provider }, details: { provider, outcome } });
  }

  /** After `resume`: remember an upstream sign-in for this session. */
  async function remember(ctx: KoaContextWithOIDC): Promise<void> {
    const result = ctx.oidc.result as ResumeResult;
    const upstream = result?.upstreamSession;
    const session = ctx.oidc.session;
    if (upstream == null || result?.login === undefined || session?.accountId === undefined || session.accountId !== result.login.accountId) return;
    let idToken: string | undefined;
    try {
      idToken = upstream.idToken === null ? undefined : box.open(upstream.idToken, ID_TOKEN_AAD);
    } catch {
      idToken = undefined;
    }
    const exp = typeof session.exp === 'number' ? session.exp * 1000 : now() + FALLBACK_SESSION_MS;
    await sessions.remember(session.uid, { provider: upstream.provider, accountId: session.accountId, idToken }, new Date(exp));
  }

  /** After `end_session_confirm`: continue to the upstream's end-session endpoint. */
  async function continueUpstream(ctx: KoaContextWithOIDC): Promise<void> {
    const session = ctx.oidc.session as (KoaContextWithOIDC['oidc']['session'] & { destroyed?: boolean }) | undefined;
    if (session?.destroyed !== true || typeof session.uid !== 'string') return;
    const taken = await sessions.take(session.uid);
    const target = ctx.response.get('Location');
    if (taken === undefined || ctx.status !== 303 || target === '') return;
    // A sign-in as someone else ends the current session first and resumes the authorization:
    // that is not a sign-out, and the upstream session may be the one just made.
    const authorization = new URL(ctx.oidc.urlFor('authorization')).pathname;
    if (new URL(target, deps.publicOrigin).pathname.startsWith(`${authorization}/`)) return;
    const idp = await directory.get(taken.provider);
    if (idp === undefined || !idp.upstream_logout) return;
    const state = randomUUID();
    let url: URL | undefined;
    try {
      url = await protocol.endSessionUrl(idp, {
        ...(taken.idToken === undefined ? {} : { id_token_hint: taken.idToken }),
        client_id: idp.client_id,
        post_logout_redirect_uri: returnUrl(idp.alias),
        state,
      });
    } catch (error) {
      deps.logger.warn({ provider: idp.alias, err: error instanceof Error ? error.message : String(error) }, 'upstream logout skipped: the upstream is unreachable');
      record('upstream.logout', taken.accountId, idp.alias, 'unreachable');
      return;
    }
    if (url === undefined) {
      record('upstream.logout', taken.accountId, idp.alias, 'no_end_session_endpoint');
      return;
    }
    const ticket: ReturnTicket = { alias: idp.alias, state, target, at: now() };
    ctx.cookies.set(UPSTREAM_LOGOUT_COOKIE, box.seal(JSON.stringify(ticket), RETURN_AAD), { ...cookie, maxAge: RETURN_TTL_MS });
    record('upstream.logout', taken.accountId, idp.alias, 'continued');
    // Not a 303: the sign-out began with a form, and Chromium checks each redirect of that chain
    // against the page's CSP form-action, which does not name the upstream. A page that moves
    // on (Refresh) starts a new navigation.
    ctx.remove('Location');
    const locale = localeOf(views, ctx);
    const t = views.translate(locale);
    ctx.set('Refresh', `0;url=${url.href}`);
    await sendPage(ctx, views, 'upstream-continue', locale, {
      title: t('upstream.signing_out', { provider: isolate(idp.display_name) }),
      heading: t('upstream.signing_out', { provider: isolate(idp.display_name) }),
      lead: t('upstream.signing_out_lead', { provider: isolate(idp.display_name) }),
      continueHref: url.href,
    });
  }

  const afterResponse: AfterResponseStep = { routes: ['resume', 'end_session_confirm'], after: afterSignInOrOut };
  async function afterSignInOrOut(ctx: KoaContextWithOIDC): Promise<void> {
    const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
    if (route !== 'resume' && route !== 'end_session_confirm') return;
    try {
      if (route === 'resume') await remember(ctx);
      else await continueUpstream(ctx);
    } catch (error) {
      // The Gatehouse sign-in or sign-out itself has happened; this part is best effort.
      deps.logger.warn({ route, err: error instanceof Error ? error.message : String(error) }, 'upstream session bookkeeping failed');
    }
  }

  function readTicket(ctx: Context): ReturnTicket | undefined {
    const sealed = ctx.cookies.get(UPSTREAM_LOGOUT_COOKIE, { signed: false });
    if (sealed === undefined || sealed === '') return undefined;
    try {
      return JSON.parse(box.open(sealed, RETURN_AAD)) as ReturnTicket;
    } catch {
      return undefined;
    }
  }

  const routes = new Router();
  /** The upstream's end-session endpoint sends the browser back here. */
  routes.get(`${paths.upstream}/:alias/logged-out`, async (ctx) => {
    const ticket = readTicket(ctx);
    ctx.cookies.set(UPSTREAM_LOGOUT_COOKIE, null, cookie);
    const state = ctx.query.state;
    const valid =
      ticket !== undefined &&
      ticket.alias === ctx.params.alias &&
      now() - ticket.at < RETURN_TTL_MS &&
      // An upstream that sends state back must send ours.
      (state === undefined || state === ticket.state);
    // The ticket's target is the library's own redirect (a registered URI, or the signed-out page).
    const target = valid ? ticket.target : deps.signedOutUrl;
    const locale = views.negotiate(chosenLocale(ctx), ctx.get('accept-language'));
    const t = views.translate(locale);
    // Not a 303: this ends a chain that began with the upstream's sign-out form, whose
    // form-action does not name the application.
    ctx.set('Refresh', `0;url=${target}`);
    await sendPage(ctx, views, 'upstream-continue', locale, { title: t('signed_out.title'), heading: t('signed_out.title'), lead: t('upstream.signed_out_lead'), continueHref: target });
  });

  return { afterResponse, routes };
}
