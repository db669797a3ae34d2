import type { Middleware } from 'koa';
import { respondToError } from '../errors/respond.ts';
import { replayAsUrlencoded } from '../http/form-body.ts';
import type { Logger } from '../observability/logger.ts';
import { isPath, providerRouteAt } from '../routes/match.ts';
import { endpointPath, type RoutesTable } from '../routes/table.ts';
import { readForm } from './body.ts';
import { errorPage } from './page-errors.ts';
import type { Views } from './views.ts';

/**
 * The forms the library serves itself — the sign-out confirmation (`<end_session>/confirm`) and
 * the device code entry and confirmation (`<code_verification>`) — as Gatehouse's own hosted
 * forms take them (src/interactions/body.ts): urlencoded, or multipart/form-data (a template
 * with `enctype="multipart/form-data"`), which the library does not read and answered with its
 * generic error page. A multipart form reaches the library as the urlencoded form it parses
 * (files left out); a body in any other encoding gets the hosted pages' 415 page in the reader's
 * language, and never reaches the library.
 */
export function providerFormBodies(routes: RoutesTable, views: Views, logger: Logger): Middleware {
  const signOutConfirm = `${endpointPath(routes, 'end_session')}/confirm`;
  const page = errorPage(views, routes.interaction);
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || (providerRouteAt(routes, ctx.path) !== 'code_verification' && !isPath(ctx.path, signOutConfirm))) return next();
    if (ctx.get('content-type') === '' || ctx.is('application/x-www-form-urlencoded') !== false) return next();
    let fields: Record<string, string>;
    try {
      fields = await readForm(ctx);
    } catch (error) {
      return respondToError(ctx, error, { logger, page });
    }
    replayAsUrlencoded(ctx, fields);
    return next();
  };
}
