import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AfterResponseStep } from './after-response.ts';

/** The state the library's end_session keeps in the session for its confirmation form. */
interface SignOutState {
  readonly secret?: unknown;
  readonly clientId?: unknown;
  readonly state?: unknown;
  readonly postLogoutRedirectUri?: unknown;
}

/** The session as the library hands it around (a proxy over its Session model). */
interface SessionLike {
  readonly accountId?: string | undefined;
  readonly state?: SignOutState | undefined;
  destroy(): Promise<void>;
}

/**
 * After the response (src/oidc/after-response.ts), at end_session: RP-initiated logout by someone who is not signed in stores
 * nothing. The library answers such a visit with a page that posts its own form to
 * end_session_confirm, and keeps that form's secret — with the request's checked
 * post_logout_redirect_uri, state and client — in a session record saved for the whole session
 * lifetime (ttl.Session, 14 days): one record per visit of a bookmark, a crawler or an app
 * signing out after the session already ended, most of which never post the form.
 *
 * Nobody is signed in, so there is nothing to confirm and nothing to end: once the library has
 * checked the request (id_token_hint, client_id, the registered post_logout_redirect_uri — a bad
 * one is refused before any record is made), the record it just saved is removed, its cookie
 * cleared, and the browser goes where the confirmation would have sent it: the registered
 * post_logout_redirect_uri with its state, else the signed-out page (naming the application).
 * People who are signed in get the library's flow unchanged.
 */
export function signOutWithoutSession(cookieOptions: { readonly httpOnly: boolean; readonly sameSite: 'lax' | 'none' }): AfterResponseStep {
  return { routes: ['end_session'], after: anonymousSignOut };
  async function anonymousSignOut(ctx: KoaContextWithOIDC): Promise<void> {
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    if (oidc?.route !== 'end_session' || ctx.status !== 200) return;
    const session = oidc.session as unknown as SessionLike | undefined;
    const state = session?.state;
    if (session === undefined || session.accountId !== undefined || typeof state?.secret !== 'string') return;

    await session.destroy();
    oidc.cookies.set(oidc.provider.cookieName('session'), null, { ...cookieOptions, overwrite: true });
    let target: URL;
    if (typeof state.postLogoutRedirectUri === 'string') {
      target = new URL(state.postLogoutRedirectUri);
      if (typeof state.state === 'string') target.searchParams.set('state', state.state);
    } else {
      target = new URL(oidc.urlFor('end_session_success'));
      if (typeof state.clientId === 'string') target.searchParams.set('client_id', state.clientId);
    }
    ctx.status = 303;
    ctx.redirect(target.href);
  }
}
