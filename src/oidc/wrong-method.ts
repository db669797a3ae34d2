import type { KoaContextWithOIDC } from 'oidc-provider';
import { NO_ROUTE, type AfterResponseStep } from './after-response.ts';
import { GatehouseError } from '../errors/gatehouse-error.ts';
import { isPath } from '../routes/match.ts';
import type { ProviderRouteName, RoutesTable } from '../routes/table.ts';

/**
 * The methods each OAuth endpoint answers (as the provider registers its routes; GET brings HEAD);
 * `registration_client` is RFC 7592's client configuration endpoint, `<registration>/{client_id}`.
 */
export type AllowedMethods = Partial<Readonly<Record<ProviderRouteName | 'registration_client', readonly string[]>>>;

/** Whether a path is one segment below an endpoint's path (`/reg/{client_id}`), matched the provider's way. */
function isChildOf(path: string, parent: string): boolean {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const cut = trimmed.lastIndexOf('/');
  return cut > 0 && cut < trimmed.length - 1 && isPath(trimmed.slice(0, cut), parent);
}

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
  const endpoints = Object.entries(allowed).map(([name, methods]) =>
    name === 'registration_client'
      ? ([(path: string) => isChildOf(path, routes.provider.registration), methods] as const)
      : ([(path: string) => isPath(path, routes.provider[name as ProviderRouteName]), methods] as const),
  );
  return {
    routes: [NO_ROUTE],
    after(ctx: KoaContextWithOIDC) {
      if (ctx.status !== 404 || ctx.body != null) return;
      for (const [matches, methods] of endpoints) {
        if (methods !== undefined && matches(ctx.path) && !methods.includes(ctx.method)) throw new MethodNotAllowedError(ctx.method, methods);
      }
    },
  };
}
