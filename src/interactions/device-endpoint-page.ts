import type { Middleware } from 'koa';
import { isPath } from '../routes/match.ts';
import { endpointPath, type RoutesTable } from '../routes/table.ts';

/**
 * A browser's GET of the device authorization endpoint (where devices POST their requests) goes
 * to the code entry page (code_verification), keeping a `user_code`, as Keycloak answers
 * `/protocol/openid-connect/auth/device` with its code entry page: people type that address
 * from screens and manuals. Without this the Keycloak layout's path reaches the library's
 * authorization resume route (`/auth/:uid` with uid `device`, "page expired"), and Gatehouse's
 * `/device/auth` the device resume route (`/device/:uid`), which lost the code. `issuer`: the
 * public URL the address is built from (never the request's Host header).
 */
export function deviceEndpointPage(routes: RoutesTable, issuer: string): Middleware {
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
