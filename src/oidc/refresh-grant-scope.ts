import type { Middleware } from 'koa';
import { bufferedForm, refuseTooLarge } from '../http/form-body.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

/** Runs one refresh grant presenting `refreshToken` in the storage's scope (src/storage/oidc/refresh-rotation.ts inRefreshGrant). */
export type InRefreshGrant = <T>(refreshToken: string, run: () => T) => T;

/**
 * In front of the provider: a token request with `grant_type=refresh_token` runs inside the
 * storage's refresh-grant scope, naming the token it presents. The storage then reads that token
 * alone (one MongoDB read) instead of the token and its rotation marker: the refresh grant
 * rotates the token, and the rotation's insert finds out whether it was rotated already (see
 * docs/STORAGE.md). Only that find is spared the marker; introspection, revocation and anything
 * else still read both. Without this middleware every find reads both: correct, one read more.
 */
export function refreshGrantScope(routes: RoutesTable, inRefreshGrant: InRefreshGrant): Middleware {
  return guarding(['token'], async (ctx, next) => {
    if (ctx.method !== 'POST' || providerRouteAt(routes, ctx.path) !== 'token') return next();
    const form = await bufferedForm(ctx);
    if (form === 'not_a_form') return next();
    if (form === 'too_large') return refuseTooLarge(ctx);
    const { grant_type: grantType, refresh_token: refreshToken } = form.params;
    if (grantType !== 'refresh_token' || typeof refreshToken !== 'string') return next();
    return inRefreshGrant(refreshToken, next);
  });
}
