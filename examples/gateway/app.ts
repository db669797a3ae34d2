import { randomBytes, timingSafeEqual } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { memorySessions, type Session } from './sessions.ts';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SESSION_COOKIE = 'gw_session';
const CSRF_COOKIE = 'gw_csrf';

/** One upstream service behind the gateway. */
export interface Route {
  /** Requests under this path go to `upstream` (the rest of the path and the query are kept). */
  readonly path: string;
  readonly upstream: string;
  /**
   * Call the service on the user's behalf with a token for this API (token exchange); without
   * it the user's own token is forwarded as is.
   */
  readonly exchangeFor?: string | undefined;
}

export interface GatewayOptions {
  readonly issuer: string;
  /** The gateway's client: confidential, first-party, `allow_password_grant`, a `token_exchange` policy for exchanged routes. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The API users' tokens are for (their `aud`); Bearer tokens from API clients must be for it too. */
  readonly api: string;
  /** Scopes asked for at sign-in. */
  readonly scope: string;
  readonly routes: readonly Route[];
  /** Behind TLS: cookies get `Secure`. */
  readonly secureCookies?: boolean;
  /** Behind a TLS proxy: trust X-Forwarded-Proto (Koa's `proxy`). */
  readonly trustProxy?: boolean;
  /** A browser session idle this long is forgotten. */
  readonly sessionIdleSeconds?: number;
  /** Refresh (or exchange again) this many seconds before a token expires. */
  readonly refreshBeforeSeconds?: number;
  /** Clock seam (milliseconds), for tests. */
  readonly now?: () => number;
  /** Only for a local Gatehouse over plain HTTP. */
  readonly allowInsecureHttp?: boolean;
}

/** An answer to the caller, as JSON with an OAuth-style error. */
class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(csrf: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>${error === undefined ? '' : `<p role="alert" id="error">${escape(error)}</p>`}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${escape(csrf)}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function readBody(ctx: Context, limit = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Refusal(413, 'invalid_request', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * An API gateway in front of services, signing users in with Gatehouse's password grant:
 * - API clients send HTTP Basic (a sign-in per request) or a Gatehouse access token (Bearer,
 *   validated locally with the JWKS);
 * - browsers sign in with a form; the tokens stay in a server-side session, the browser holds
 *   only an HttpOnly, SameSite cookie; an expired access token is refreshed on the next request;
 *   logout revokes the refresh token.
 * Each request then goes to its upstream service with the user's token, or — for a service that
 * is another API — with a token for that API got by token exchange (RFC 8693).
 */
export function gateway(options: GatewayOptions): Koa {
  const now = options.now ?? Date.now;
  const early = (options.refreshBeforeSeconds ?? 30) * 1000;
  const sessions = memorySessions({ idleSeconds: options.sessionIdleSeconds ?? 8 * 3600, now });
  const jwks = createRemoteJWKSet(new URL(`${options.issuer.replace(/\/$/, '')}/jwks`));
  let discovered: Promise<client.Configuration> | undefined;
  const config = () =>
    (discovered ??= client
      .discovery(new URL(options.issuer), options.clientId, options.clientSecret, undefined, options.allowInsecureHttp ? { execute: [client.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      }));
  const expiry = (tokens: client.TokenEndpointResponse) => now() + (tokens.expires_in ?? 60) * 1000;

  /** The password grant; Gatehouse's refusal becomes the caller's 401 (or 503 while it is busy). */
  async function signIn(username: string, password: string): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    try {
      return await client.genericGrantRequest(await config(), 'password', { username, password, scope: options.scope, resource: options.api });
    } catch (error) {
      if (error instanceof client.ResponseBodyError && error.status === 503) {
        throw new Refusal(503, 'temporarily_unavailable', 'sign-in is busy, retry shortly', { 'Retry-After': error.response.headers.get('retry-after') ?? '1' });
      }
      if (error instanceof client.ResponseBodyError && error.error === 'invalid_grant') {
        throw new Refusal(401, 'invalid_grant', error.error_description ?? 'invalid username or password', { 'WWW-Authenticate': 'Basic realm="gateway"' });
      }
      throw error;
    }
  }

  /** The session's access token, refreshed first when it is (about to be) expired. */
  async function sessionToken(id: string, session: Session): Promise<string> {
    if (now() < session.accessTokenExpiresAt - early) return session.accessToken;
    if (session.refreshToken === undefined) {
      sessions.delete(id);
      throw new Refusal(401, 'session_expired', 'the session has expired, sign in again');
    }
    session.refreshing ??= (async () => {
      try {
        const tokens = await client.refreshTokenGrant(await config(), session.refreshToken!);
        session.accessToken = tokens.access_token;
        session.accessTokenExpiresAt = expiry(tokens);
        session.refreshToken = tokens.refresh_token ?? session.refreshToken;
        session.exchanged.clear();
      } catch (error) {
        if (!(error instanceof client.ResponseBodyError)) throw error;
        // Revoked, expired, the user disabled: the session ends here.
        sessions.delete(id);
        throw new Refusal(401, 'session_expired', 'the session has ended, sign in again');
      } finally {
        session.refreshing = undefined;
      }
    })();
    await session.refreshing;
    return session.accessToken;
  }

  /** Who is calling: a token for `options.api`, and the session it belongs to (browsers). */
  async function authenticate(ctx: Context): Promise<{ token: string; session?: Session; revokeAfter?: string }> {
    const authorization = ctx.get('authorization');
    const bearer = /^Bearer ([^\s]+)$/i.exec(authorization)?.[1];
    if (bearer !== undefined) {
      try {
        await jwtVerify(bearer, jwks, { issuer: options.issuer, audience: options.api, typ: 'at+jwt', currentDate: new Date(now()) });
      } catch {
        throw new Refusal(401, 'invalid_token', 'the token is invalid, expired or for another API', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      }
      return { token: bearer };
    }
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization)?.[1];
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) throw new Refusal(401, 'invalid_request', 'HTTP Basic needs username:password', { 'WWW-Authenticate': 'Basic realm="gateway"' });
      const tokens = await signIn(decoded.slice(0, colon), decoded.slice(colon + 1));
      // A sign-in for one request: its grant is revoked once the answer is out.
      return { token: tokens.access_token, ...(tokens.refresh_token === undefined ? {} : { revokeAfter: tokens.refresh_token }) };
    }
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = sessions.find(id);
    if (id === undefined || session === undefined) {
      throw new Refusal(401, 'unauthorized', 'sign in at /login, or send HTTP Basic or a bearer token', { 'WWW-Authenticate': 'Basic realm="gateway"' });
    }
    return { token: await sessionToken(id, session), session };
  }

  /** A token for another API on the user's behalf, kept in the session until shortly before it expires. */
  async function exchange(token: string, api: string, session: Session | undefined): Promise<string> {
    const cached = session?.exchanged.get(api);
    if (cached !== undefined && now() < cached.expiresAt - early) return cached.token;
    try {
      const tokens = await client.genericGrantRequest(await config(), TOKEN_EXCHANGE, { subject_token: token, subject_token_type: ACCESS_TOKEN_TYPE, resource: api });
      session?.exchanged.set(api, { token: tokens.access_token, expiresAt: expiry(tokens) });
      return tokens.access_token;
    } catch (error) {
      if (error instanceof client.ResponseBodyError) throw new Refusal(403, error.error, error.error_description ?? 'token exchange refused');
      throw error;
    }
  }

  async function forward(ctx: Context, route: Route): Promise<void> {
    const caller = await authenticate(ctx);
    try {
      const token = route.exchangeFor === undefined ? caller.token : await exchange(caller.token, route.exchangeFor, caller.session);
      const rest = ctx.path.slice(route.path.length);
      const target = `${route.upstream.replace(/\/$/, '')}${rest}${ctx.querystring === '' ? '' : `?${ctx.querystring}`}`;
      const body = ctx.method === 'GET' || ctx.method === 'HEAD' ? undefined : await readBody(ctx);
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (ctx.get('content-type') !== '') headers['content-type'] = ctx.get('content-type');
      if (ctx.get('accept') !== '') headers.accept = ctx.get('accept');
      const answer = await fetch(target, { method: ctx.method, headers, ...(body === undefined ? {} : { body: new Uint8Array(body) }) }).catch(() => {
        throw new Refusal(502, 'bad_gateway', 'the service behind this path did not answer');
      });
      ctx.status = answer.status;
      for (const name of ['content-type', 'www-authenticate', 'retry-after']) {
        const value = answer.headers.get(name);
        if (value !== null) ctx.set(name, value);
      }
      ctx.body = Buffer.from(await answer.arrayBuffer());
    } finally {
      if (caller.revokeAfter !== undefined) {
        const refreshToken = caller.revokeAfter;
        void config()
          .then((c) => client.tokenRevocation(c, refreshToken))
          .catch(() => undefined);
      }
    }
  }

  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: options.secureCookies === true, path: '/', overwrite: true };

  const app = new Koa();
  app.proxy = options.trustProxy === true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = { error: error.code, error_description: error.message };
    }
  });

  app.use(async (ctx, next) => {
    if (ctx.path === '/login' && ctx.method === 'GET') {
      const csrf = randomBytes(24).toString('base64url');
      ctx.cookies.set(CSRF_COOKIE, csrf, { ...cookie, sameSite: 'strict' });
      ctx.type = 'html';
      ctx.body = loginPage(csrf);
      return;
    }
    if (ctx.path === '/login' && ctx.method === 'POST') {
      const form = new URLSearchParams((await readBody(ctx)).toString('utf8'));
      const expected = ctx.cookies.get(CSRF_COOKIE) ?? '';
      if (expected === '' || !sameText(expected, form.get('csrf') ?? '')) throw new Refusal(403, 'invalid_request', 'the form expired, reload the sign-in page');
      let tokens;
      try {
        tokens = await signIn(form.get('username') ?? '', form.get('password') ?? '');
      } catch (error) {
        if (!(error instanceof Refusal) || error.status !== 401) throw error;
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = loginPage(expected, error.code === 'invalid_grant' ? error.message : 'Sign-in failed');
        return;
      }
      const id = sessions.create({
        // Straight from the token endpoint: the ID token's claims, or the JWT access token's `sub`.
        sub: String(tokens.claims()?.sub ?? decodeJwt(tokens.access_token).sub),
        accessToken: tokens.access_token,
        accessTokenExpiresAt: expiry(tokens),
        refreshToken: tokens.refresh_token,
      });
      ctx.cookies.set(SESSION_COOKIE, id, cookie);
      ctx.cookies.set(CSRF_COOKIE, '', { ...cookie, maxAge: 0 });
      ctx.status = 303;
      ctx.redirect('/session');
      return;
    }
    if (ctx.path === '/logout' && ctx.method === 'POST') {
      const id = ctx.cookies.get(SESSION_COOKIE);
      const session = sessions.find(id);
      if (id !== undefined && session !== undefined) {
        sessions.delete(id);
        // Revoking the refresh token ends the whole grant at Gatehouse: its access tokens too.
        if (session.refreshToken !== undefined) await client.tokenRevocation(await config(), session.refreshToken);
      }
      ctx.cookies.set(SESSION_COOKIE, '', { ...cookie, maxAge: 0 });
      ctx.status = 303;
      ctx.redirect('/login');
      return;
    }
    if (ctx.path === '/session' && ctx.method === 'GET') {
      const session = sessions.find(ctx.cookies.get(SESSION_COOKIE));
      if (session === undefined) throw new Refusal(401, 'unauthorized', 'not signed in');
      ctx.body = { sub: session.sub, accessTokenExpiresAt: new Date(session.accessTokenExpiresAt).toISOString() };
      return;
    }
    const route = options.routes.find((candidate) => ctx.path === candidate.path || ctx.path.startsWith(`${candidate.path.replace(/\/$/, '')}/`));
    if (route === undefined) return next();
    await forward(ctx, route);
  });

  return app;
}
