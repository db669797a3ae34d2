import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import type { Router, RouterMiddleware } from '@koa/router';
import type Provider from 'oidc-provider';
import { requestEdge } from './http/edge.ts';
import type { RequestObserver } from './http/request-log.ts';
import { healthRoutes, type ReadinessCheck } from './observability/health.ts';
import type { Logger } from './observability/logger.ts';
import { mountProvider } from './oidc/mount.ts';
import { isOAuthEndpoint } from './routes/match.ts';
import type { RoutesTable } from './routes/table.ts';
import { cookieSigner } from './http/cookie-signer.ts';

export interface AppDeps {
  readonly issuer: string;
  /** Every path Gatehouse serves. */
  readonly routes: RoutesTable;
  readonly trustProxy: boolean;
  /** Only the last this many X-Forwarded-For entries are believed (the client writes the rest). */
  readonly proxyHops?: number;
  /** Same keys as the provider's cookies, so both sign and verify alike. */
  readonly cookieKeys: readonly string[];
  readonly logger: Logger;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly readinessTimeoutMs: number;
  readonly provider: () => Provider;
  /** Hosted pages (sign-in, consent, ...). */
  readonly interactions?: Router;
  /** Self-service pages outside a sign-in (password reset). */
  readonly selfService?: Router;
  /** Extra img-src sources for the pages (the operator's logo origin). */
  readonly imageSources?: readonly string[];
  /** /metrics, when served on the main port. */
  readonly metrics?: Router;
  readonly observeRequest?: RequestObserver;
  /** The admin web console (routes.console): its page and assets. */
  readonly console?: Middleware;
  /** The account page (routes.account): its page and assets. */
  readonly account?: Middleware;
  /** The account page's API (routes.accountApi), with the account page's own tokens. */
  readonly accountApi?: Middleware;
  /** The admin API (routes.admin), with its own token authentication. */
  readonly admin?: RouterMiddleware;
  /** Pages answered in front of the provider (the 404 page, language switch, Keycloak's session-status pages); never on the OAuth endpoints. */
  readonly pagesBeforeProvider?: readonly Middleware[];
  /** Runs right before the provider on every provider path, the OAuth endpoints' included (the gates, the JWT swaps). */
  readonly beforeProvider?: readonly Middleware[];
}

/**
 * The HTTP pipeline, top to bottom: the edge (request id, access log and metrics, security
 * headers, the error mapper: src/http/edge.ts), then one of two chains. The OAuth endpoints
 * that machines call at volume (token, introspection, revocation, userinfo, JWKS, discovery:
 * isOAuthEndpoint) go straight to the gates and the provider; every other path walks the page
 * routers (health, metrics, hosted pages, console, account, admin API, the pages in front of
 * the provider) first. None of those routers serves an OAuth endpoint's path (both come from
 * the one routes table), so a request reaches the same handler either way; the OAuth requests
 * just skip a dozen path matches that could not succeed.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: deps.proxyHops ?? 1 });
  app.keys = cookieSigner(deps.cookieKeys);
  const health = healthRoutes({ checks: deps.readiness, timeoutMs: deps.readinessTimeoutMs, paths: deps.routes });
  const provider = mountProvider(deps.provider, { issuer: deps.issuer, trustProxy: deps.trustProxy, routes: deps.routes });
  const toProvider = [...(deps.beforeProvider ?? []), provider];

  const pages: Middleware[] = [health.routes() as Middleware];
  if (deps.metrics !== undefined) pages.push(deps.metrics.routes() as Middleware);
  if (deps.interactions !== undefined) pages.push(deps.interactions.routes() as Middleware);
  if (deps.selfService !== undefined) pages.push(deps.selfService.routes() as Middleware);
  if (deps.console !== undefined) pages.push(deps.console);
  if (deps.accountApi !== undefined) pages.push(deps.accountApi);
  if (deps.account !== undefined) pages.push(deps.account);
  if (deps.admin !== undefined) pages.push(deps.admin as Middleware);
  pages.push(...(deps.pagesBeforeProvider ?? []));

  const oauth = compose(toProvider);
  const everythingElse = compose([...pages, ...toProvider]);
  app.use(requestEdge({ issuer: deps.issuer, logger: deps.logger, observeRequest: deps.observeRequest, imageSources: deps.imageSources }));
  app.use((ctx, next) => (isOAuthEndpoint(deps.routes, ctx.path) ? oauth(ctx, next) : everythingElse(ctx, next)));

  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'unhandled application error'));
  return app;
}
