import type { Middleware } from 'koa';
import type { AfterResponseStep } from '../oidc/after-response.ts';
import { bufferedForm, refuseTooLarge, replaceForm } from '../http/form-body.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

/**
 * keycloak-js decodes the refresh token as a JWT (`refreshTokenParsed`) and fails `init()` when
 * it has no payload segment; Keycloak's refresh tokens are JWTs, Gatehouse's are opaque. In
 * the Keycloak layout the token endpoint therefore hands out each refresh token inside a
 * JWT-shaped envelope — an unsigned header (`alg: none`), a payload naming what it is
 * (`typ: "Refresh"`, or `"Offline"` for an offline token as Keycloak names one granted
 * `offline_access`; `azp`), and the opaque token as the third segment — and takes the envelope
 * back wherever a refresh token is presented (token, introspection and revocation endpoints).
 * The envelope adds nothing to trust: the opaque token inside is what the provider checks.
 */
const HEADER = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
const ENVELOPE = new RegExp(`^${HEADER}\\.[A-Za-z0-9_-]+\\.([A-Za-z0-9_-]{16,})$`);

export function wrapRefreshToken(value: string, clientId: string | undefined, offline = false): string {
  const payload = Buffer.from(JSON.stringify({ typ: offline ? 'Offline' : 'Refresh', ...(clientId === undefined ? {} : { azp: clientId }) })).toString('base64url');
  return `${HEADER}.${payload}.${value}`;
}

export function unwrapRefreshToken(value: string): string | undefined {
  return ENVELOPE.exec(value)?.[1];
}

/** After the response (src/oidc/after-response.ts), at the token endpoint: wraps the refresh token of every token response. */
export const envelopeRefreshTokens: AfterResponseStep = {
  routes: ['token'],
  after(ctx) {
    const oidc = (ctx as { oidc?: { route?: unknown; client?: { clientId?: string }; entities?: { RefreshToken?: { scope?: unknown } } } }).oidc;
    if (oidc?.route !== 'token' || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    // The refresh token's own scope (the response's `scope` is the access token's: an API's, with a resource).
    const scope = oidc.entities?.RefreshToken?.scope;
    const offline = typeof scope === 'string' && scope.split(' ').includes('offline_access');
    if (typeof body.refresh_token === 'string') body.refresh_token = wrapRefreshToken(body.refresh_token, oidc.client?.clientId, offline);
  },
};

/** In front of the provider: opens an envelope presented as `refresh_token` (token endpoint) or `token` (introspection, revocation). */
export function openRefreshEnvelopes(routes: RoutesTable): Middleware {
  return guarding(['token', 'introspection', 'revocation'], async (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    const route = providerRouteAt(routes, ctx.path);
    const field = route === 'token' ? 'refresh_token' : route === 'introspection' || route === 'revocation' ? 'token' : undefined;
    if (field === undefined) return next();
    const form = await bufferedForm(ctx);
    if (form === 'not_a_form') return next();
    if (form === 'too_large') return refuseTooLarge(ctx);
    const value = form.params[field];
    const inner = typeof value === 'string' ? unwrapRefreshToken(value) : undefined;
    if (inner !== undefined) replaceForm(ctx, { ...form.params, [field]: inner });
    return next();
  });
}
