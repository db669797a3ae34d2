import type { KoaContextWithOIDC } from 'oidc-provider';
import { NO_ROUTE, type AfterResponseStep } from './after-response.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { isPath } from '../routes/match.ts';
import type { ProviderRouteName, RoutesTable } from '../routes/table.ts';

/** The methods each OAuth endpoint answers (as the provider registers its routes; GET brings HEAD). */
export type AllowedMethods = Partial<Readonly<Record<ProviderRouteName, readonly string[]>>>;

/** A method the endpoint does not answer: 405 `invalid_request` with Allow (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends GatehouseError {
  constructor(method: string, allow: readonly string[]) {
    super(`${method} is not allowed at this endpoint; use ${allow.join(' or ')}`, {
      status: 405,
      code: 'invalid_request',
      expose: true,
      headers: { Allow: allow.join(', ') },
    });
  }
}

/**
 * The provider's router answers nothing for a method it has no route for, and Koa makes that a
 * plain-text 404 "Not Found". On an OAuth endpoint that is the caller's mistake, answered like
 * the others there: JSON `error` / `error_description` (the one mapper, outermost,
 * src/oidc/error-boundary.ts) with 405 and Allow, whatever the Accept header. Runs inside the
 * provider, on its local path, after the response (src/oidc/after-response.ts) of a request no
 * provider route served; only a 404 nothing answered is looked at.
 */
export function answerWrongMethods(routes: RoutesTable, allowed: AllowedMethods): AfterResponseStep {
  const endpoints = Object.entries(allowed).map(([name, methods]) => [routes.provider[name as ProviderRouteName], methods] as const);
  return {
    routes: [NO_ROUTE],
    after(ctx: KoaContextWithOIDC) {
      if (ctx.status !== 404 || ctx.body != null) return;
      for (const [path, methods] of endpoints) {
        if (methods !== undefined && isPath(ctx.path, path) && !methods.includes(ctx.method)) throw new MethodNotAllowedError(ctx.method, methods);
      }
    },
  };
}
