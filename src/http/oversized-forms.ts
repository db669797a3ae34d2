import type { Middleware } from 'koa';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { ProviderRouteName, RoutesTable } from '../routes/table.ts';
import { bufferedForm, FORM_BODY_LIMIT, refuseTooLarge } from './form-body.ts';

/**
 * In front of the provider at endpoints where nothing else may read the form ahead of it
 * (introspection, revocation, pushed authorization requests and device authorization for a client
 * that authenticates in its header): a body that may
 * be over the provider's limit — announced over it, or sent without a length — is read here
 * first (bufferedForm), so it is answered 413 with the connection closed. The library would
 * answer it 400 and leave the rest of the body on the socket, where a keep-alive client's next
 * request is never answered. A body announced within the limit goes on at once, for the library
 * to read itself.
 */
export function refuseOversizedForms(names: readonly ProviderRouteName[], routes: RoutesTable): Middleware {
  const guarded = new Set<ProviderRouteName>(names);
  const readAhead: Middleware = async (ctx, next) => {
    if ((await bufferedForm(ctx)) === 'too_large') return refuseTooLarge(ctx);
    return next();
  };
  return guarding(names, (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    const route = providerRouteAt(routes, ctx.path);
    if (route === undefined || !guarded.has(route)) return next();
    const { headers } = ctx.req;
    const announced = Number(headers['content-length']);
    if (headers['transfer-encoding'] === undefined && Number.isSafeInteger(announced) && announced <= FORM_BODY_LIMIT) return next();
    return readAhead(ctx, next);
  });
}
