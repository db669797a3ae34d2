import { randomBytes } from 'node:crypto';
import Koa, { type Context } from 'koa';
import * as client from 'openid-client';

export interface WebAppOptions {
  readonly issuer: string;
  /** A confidential client with `authorization_code` + `refresh_token`, redirect URI `<baseUrl>/callback`, post-logout URI `<baseUrl>/signed-out`. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where this app is reached by browsers (no trailing slash). */
  readonly baseUrl: string;
  readonly scope?: string;
  /** Behind TLS: cookies get `Secure`. */
  readonly secureCookies?: boolean;
  /** Behind a TLS proxy: trust X-Forwarded-Proto (Koa's `proxy`; Secure cookies need it). */
  readonly trustProxy?: boolean;
  /** Refresh this many seconds before the access token expires. */
  readonly refreshBeforeSeconds?: number;
  /** Clock seam (milliseconds), for tests. */
  readonly now?: () => number;
  /** Only for a local Gatehouse over plain HTTP. */
  readonly allowInsecureHttp?: boolean;
}

interface Session {
  readonly sub: string;
  readonly name: string;
  readonly idToken: string;
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string | undefined;
  refreshing?: Promise<void> | undefined;
}

/** An authorization request on its way: what the callback must check. */
interface Pending {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly until: number;
}

const SESSION_COOKIE = 'webapp_session';
const PENDING_COOKIE = 'webapp_auth';
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

/**
 * "Log in with the company account": a server-side web app signing users in with Gatehouse by
 * authorization code + PKCE (openid-client), keeping the tokens in a server-side session (the
 * browser gets an HttpOnly cookie), calling userinfo with a refreshed access token, and signing
 * out with RP-initiated logout (which ends the Gatehouse session too).
 */
export function webApp(options: WebAppOptions): Koa {
  const now = options.now ?? Date.now;
  const early = (options.refreshBeforeSeconds ?? 30) * 1000;
  const sessions = new Map<string, Session>();
  const pending = new Map<string, Pending>();
  let discovered: Promise<client.Configuration> | undefined;
  const config = () =>
    (discovered ??= client
      .discovery(new URL(options.issuer), options.clientId, options.clientSecret, undefined, options.allowInsecureHttp ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      }));
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: options.secureCookies === true, path: '/', overwrite: true };
  const sessionOf = (ctx: Context) => {
    const id = ctx.cookies.get(SESSION_COOKIE);
    return id === undefined ? undefined : sessions.get(id);
  };

  async function accessToken(ctx: Context, session: Session): Promise<string | undefined> {
    if (now() < session.accessTokenExpiresAt - early) return session.accessToken;
    if (session.refreshToken === undefined) return undefined;
    session.refreshing ??= client
      .refreshTokenGrant(await config(), session.refreshToken)
      .then((tokens) => {
        session.accessToken = tokens.access_token;
        session.accessTokenExpiresAt = now() + (tokens.expires_in ?? 60) * 1000;
        session.refreshToken = tokens.refresh_token ?? session.refreshToken;
      })
      .finally(() => {
        session.refreshing = undefined;
      });
    try {
      await session.refreshing;
      return session.accessToken;
    } catch (error) {
      if (!(error instanceof client.ResponseBodyError)) throw error;
      // The grant is gone (revoked, user disabled): sign in again.
      sessions.delete(ctx.cookies.get(SESSION_COOKIE) ?? '');
      return undefined;
    }
  }

  const app = new Koa();
  app.proxy = options.trustProxy === true;
  app.use(async (ctx) => {
    if (ctx.path === '/' && ctx.method === 'GET') {
      const session = sessionOf(ctx);
      ctx.type = 'html';
      ctx.body =
        session === undefined
          ? page('Example app', '<p><a id="sign-in" href="/login">Sign in with the company account</a></p>')
          : page(
              'Example app',
              `<p id="who">Signed in as ${escape(session.name)}</p><p><a id="profile" href="/profile">Your profile</a></p>` +
                '<form method="post" action="/logout"><button id="sign-out" type="submit">Sign out</button></form>',
            );
      return;
    }

    if (ctx.path === '/login' && ctx.method === 'GET') {
      const request: Pending = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce(), until: now() + 10 * 60_000 };
      for (const [key, old] of pending) if (old.until <= now()) pending.delete(key);
      const id = randomBytes(24).toString('base64url');
      pending.set(id, request);
      ctx.cookies.set(PENDING_COOKIE, id, { ...cookie, maxAge: 10 * 60_000 });
      const url = client.buildAuthorizationUrl(await config(), {
        redirect_uri: `${options.baseUrl}/callback`,
        scope: options.scope ?? 'openid profile email',
        code_challenge: await client.calculatePKCECodeChallenge(request.verifier),
        code_challenge_method: 'S256',
        state: request.state,
        nonce: request.nonce,
      });
      ctx.redirect(url.href);
      return;
    }

    if (ctx.path === '/callback' && ctx.method === 'GET') {
      const id = ctx.cookies.get(PENDING_COOKIE);
      const request = id === undefined ? undefined : pending.get(id);
      if (id !== undefined) pending.delete(id);
      ctx.cookies.set(PENDING_COOKIE, '', { ...cookie, maxAge: 0 });
      ctx.type = 'html';
      if (request === undefined || request.until <= now()) {
        ctx.status = 400;
        ctx.body = page('Sign-in failed', '<p id="error">This sign-in expired or was started elsewhere. <a href="/login">Try again</a>.</p>');
        return;
      }
      let tokens;
      try {
        tokens = await client.authorizationCodeGrant(await config(), new URL(ctx.originalUrl, options.baseUrl), {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        });
      } catch (error) {
        // A refusal at Gatehouse (access_denied), a mismatched state, a bad code: all end here.
        const reason = error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError ? error.error : 'invalid_response';
        ctx.status = 400;
        ctx.body = page('Sign-in failed', `<p id="error">Sign-in failed (${escape(reason)}). <a href="/login">Try again</a>.</p>`);
        return;
      }
      const claims = tokens.claims()!;
      const sessionId = randomBytes(32).toString('base64url');
      sessions.set(sessionId, {
        sub: claims.sub,
        name: typeof claims.name === 'string' ? claims.name : String(claims.preferred_username ?? claims.sub),
        idToken: tokens.id_token!,
        accessToken: tokens.access_token,
        accessTokenExpiresAt: now() + (tokens.expires_in ?? 60) * 1000,
        refreshToken: tokens.refresh_token,
      });
      ctx.cookies.set(SESSION_COOKIE, sessionId, cookie);
      ctx.redirect('/');
      return;
    }

    if (ctx.path === '/profile' && ctx.method === 'GET') {
      const session = sessionOf(ctx);
      const token = session === undefined ? undefined : await accessToken(ctx, session);
      if (session === undefined || token === undefined) {
        ctx.redirect('/login');
        return;
      }
      const info = await client.fetchUserInfo(await config(), token, session.sub);
      ctx.type = 'html';
      ctx.body = page(
        'Your profile',
        `<dl><dt>Username</dt><dd id="username">${escape(String(info.preferred_username ?? ''))}</dd><dt>Email</dt><dd id="email">${escape(String(info.email ?? ''))}</dd>` +
          `<dt>Access token valid until</dt><dd id="expires">${new Date(session.accessTokenExpiresAt).toISOString()}</dd></dl><p><a href="/">Home</a></p>`,
      );
      return;
    }

    if (ctx.path === '/logout' && ctx.method === 'POST') {
      const id = ctx.cookies.get(SESSION_COOKIE);
      const session = id === undefined ? undefined : sessions.get(id);
      ctx.cookies.set(SESSION_COOKIE, '', { ...cookie, maxAge: 0 });
      if (id === undefined || session === undefined) {
        ctx.redirect('/');
        return;
      }
      sessions.delete(id);
      if (session.refreshToken !== undefined) await client.tokenRevocation(await config(), session.refreshToken).catch(() => undefined);
      // RP-initiated logout: Gatehouse ends its own session, then sends the browser back here.
      ctx.status = 303;
      ctx.redirect(client.buildEndSessionUrl(await config(), { id_token_hint: session.idToken, post_logout_redirect_uri: `${options.baseUrl}/signed-out` }).href);
      return;
    }

    if (ctx.path === '/signed-out' && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p><p><a href="/login">Sign in again</a></p>');
    }
  });
  return app;
}
