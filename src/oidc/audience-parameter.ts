/*
 * Auth0's `audience` parameter names the API a token is for, where the standard names it
 * `resource` (RFC 8707). Ignored (as RFC 6749 lets a server ignore unknown parameters), it
 * would hand an Auth0 migrant a token for another audience than the one asked for; so Gatehouse
 * takes it as the resource it names, at /auth (and PAR, device authorization) and at /token on
 * every grant, with the same checks (an unknown or unallowed API is invalid_target). Given with
 * `resource`, both must name the same API: checked inside the library's own flow (its resource
 * hooks, resource-servers.ts), so at /token a client is authenticated first and the refusal is a
 * token error like the others (CORS, metrics, body). Token exchange has `audience` of its own
 * (RFC 8693) and checks it itself (grants/token-exchange.ts).
 */
import type { Middleware } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { bufferedForm, refuseTooLarge, replaceForm } from '../http/form-body.ts';
import { guarding } from '../routes/guards.ts';
import { providerRouteAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';
import { TOKEN_EXCHANGE_GRANT } from './client-metadata.ts';

const DISAGREE = 'resource and audience name different APIs';

const sameTargets = (resource: unknown, audience: unknown): boolean => {
  const list = (value: unknown) => [...new Set(Array.isArray(value) ? value : [value])].sort();
  const [a, b] = [list(resource), list(audience)];
  return a.length === b.length && a.every((value, index) => value === b[index]);
};

/**
 * The authorization endpoints' `audience` (an extra parameter there), when the request names no
 * `resource`: the library's defaultResource takes it as the resource (resource-servers.ts).
 */
export function audienceAsDefaultResource(ctx: KoaContextWithOIDC): string | undefined {
  if (ctx.oidc.route === 'token') return undefined;
  const audience = (ctx.oidc.params as { audience?: unknown } | undefined)?.audience;
  return typeof audience === 'string' && audience !== '' ? audience : undefined;
}

/**
 * The extra parameter's check at the authorization endpoints, run after the resource was
 * resolved (its default being the audience): an `audience` that is not that resource is refused.
 */
export async function audienceMatchesResource(ctx: KoaContextWithOIDC, audience: unknown): Promise<void> {
  if (audience === undefined || audience === '') return;
  if (!sameTargets(ctx.oidc.params?.resource, audience)) throw new errors.InvalidTarget(DISAGREE);
}

/**
 * The token endpoint's check, called by the resource hooks (resource-servers.ts) whenever the
 * library resolves the requested resource, i.e. after client authentication and the grant's own
 * checks: an `audience` in the form that is not the `resource` is refused. The library drops
 * `audience` from the parameters of grants that do not know it; its parsed body keeps it.
 */
export function refuseDisagreeingAudience(ctx: KoaContextWithOIDC): void {
  if (ctx.oidc.route !== 'token') return;
  const body = ctx.oidc.body as { audience?: unknown; grant_type?: unknown } | undefined;
  const audience = body?.audience;
  if (audience === undefined || audience === '' || body?.grant_type === TOKEN_EXCHANGE_GRANT) return;
  if (!sameTargets(ctx.oidc.params?.resource, audience)) throw new errors.InvalidTarget(DISAGREE);
}

/**
 * In front of the provider's token endpoint (whose built-in grants drop parameters they do not
 * know): a request with `audience` and no `resource` is handed on with that value as its
 * `resource`, so every grant treats it exactly as RFC 8707 says (client_credentials and password:
 * the API of the token; code, refresh and device code: one the grant holds, else invalid_target).
 * Both given are handed on as they came (refuseDisagreeingAudience answers inside the library).
 * The form is already read by the gates before this one (the refresh-grant scope reads every
 * token form), so a request without `audience` costs one property look-up.
 */
export function audienceAtToken(routes: RoutesTable): Middleware {
  return guarding(['token'], async (ctx, next) => {
    if (ctx.method !== 'POST' || providerRouteAt(routes, ctx.path) !== 'token') return next();
    const form = await bufferedForm(ctx);
    if (form === 'not_a_form') return next();
    if (form === 'too_large') return refuseTooLarge(ctx);
    const { audience } = form.params;
    // Most token requests carry no `audience`: nothing copied for them.
    if (audience === undefined || audience === '' || form.params.grant_type === TOKEN_EXCHANGE_GRANT) return next();
    if (form.params.resource === undefined) {
      const { audience: _named, ...rest } = form.params;
      replaceForm(ctx, { ...rest, resource: audience });
    }
    return next();
  });
}
