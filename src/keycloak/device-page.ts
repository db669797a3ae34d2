import type { Middleware } from 'koa';
import { isPath } from '../routes/match.ts';
import { endpointPath, type RoutesTable } from '../routes/table.ts';

/**
 * Keycloak answers a browser's GET of its device endpoint (`/protocol/openid-connect/auth/device`,
 * where devices POST their authorization requests) with its code entry page, and people type
 * that address from screens and manuals. Here the same GET goes to the code entry page
 * (code_verification), keeping a `user_code`; without this it would reach the library's
 * authorization resume route (`/auth/:uid` with uid `device`) and show "page expired".
 * Only the Keycloak layout nests the device endpoint under the authorization endpoint.
 */
/** `issuer`: the public URL the address is built from (never the request's Host header). */
export function keycloakDevicePage(routes: RoutesTable, issuer: string): Middleware {
  const device = endpointPath(routes, 'device_authorization');
  const entryPage = endpointPath(routes, 'code_verification');
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !isPath(ctx.path, device)) return next();
    const target = new URL(entryPage, issuer);
    const userCode = ctx.query.user_code;
    if (typeof userCode === 'string' && userCode !== '') target.searchParams.set('user_code', userCode);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(target.href);
    return undefined;
  };
}
