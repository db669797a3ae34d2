import type { Middleware } from 'koa';
import { isPath } from '../routes/match.ts';
import { endpointPath, type RoutesTable } from '../routes/table.ts';

/**
 * Keycloak's registration page, `/realms/<name>/protocol/openid-connect/registrations`, which
 * keycloak-js's `register()` / `createRegisterUrl()` opens with the parameters of an authorization
 * request. Gatehouse has the standard way to ask for it — the authorization request with
 * `prompt=create` (README, *Self-registration*) — so the browser is sent there, every parameter
 * kept and the prompt set to `create`. With self-registration off the application gets the
 * standard `invalid_request` at its redirect URI, as for any `prompt=create`. Keycloak layout only;
 * `issuer`: the public URL the address is built from (never the request's Host header).
 */
export function registrationsPage(routes: RoutesTable, issuer: string): Middleware {
  const path = routes.registrations;
  if (path === undefined) return async (_ctx, next) => next();
  const authorization = endpointPath(routes, 'authorization');
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !isPath(ctx.path, path)) return next();
    const target = new URL(authorization, issuer);
    target.search = ctx.querystring;
    target.searchParams.set('prompt', 'create');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(target.href);
    return undefined;
  };
}
