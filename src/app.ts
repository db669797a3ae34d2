import type { RequestListener } from 'node:http';
import Koa, { type Middleware } from 'koa';
import type { Router, RouterMiddleware } from '@koa/router';
import type Provider from 'oidc-provider';
import { healthRoutes, type ReadinessCheck } from './observability/health.ts';
import type { Logger } from './observability/logger.ts';
import { markDirect } from './oidc/direct-front.ts';
import { forwardAsIssuer, mountProvider, providerHandler } from './oidc/mount.ts';
import { oauthEndpointAt } from './routes/match.ts';
import type { RoutesTable } from './routes/table.ts';
import { cookieSigner } from './http/cookie-signer.ts';
import { originForm } from './http/origin-form.ts';

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
  /** What every request passes first (src/http/edge.ts); the provider runs the same one for the OAuth endpoints (src/oidc/direct-front.ts). */
  readonly edge: Middleware;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly readinessTimeoutMs: number;
  readonly provider: () => Provider;
  /** Hosted pages (sign-in, consent, ...). */
  readonly interactions?: Router;
  /** Self-service pages outside a sign-in (password reset). */
  readonly selfService?: Router;
  /** /metrics, when served on the main port. */
  readonly metrics?: Router;
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
  /** Runs right before the provider on the provider paths the app routes (the gates, the JWT swaps); the provider runs them itself for the OAuth endpoints. */
  readonly beforeProvider?: readonly Middleware[];
}

export interface GatehouseApp {
  /** Gatehouse's Koa app: the pages, admin API, health and metrics, and the provider paths that are not OAuth endpoints. */
  readonly koa: Koa;
  /** The HTTP server's request listener: the OAuth endpoints straight to the provider, everything else to the Koa app. */
  readonly listener: RequestListener;
}

/**
 * The HTTP pipeline, top to bottom. The OAuth endpoints that machines call at volume (token,
 * introspection, revocation, userinfo, JWKS, discovery: oauthEndpointAt) go from the HTTP server
 * straight to the provider's own Koa app, one Koa context per request: the provider runs the edge
 * (request id, access log and metrics, security headers, the error mapper: src/http/edge.ts) and
 * the gates as its outermost middleware for them (src/oidc/direct-front.ts). Every other request
 * enters Gatehouse's Koa app: the edge, then the page routers (health, metrics, hosted pages,
 * console, account, admin API, the pages in front of the provider), then the gates and the
 * provider mount. None of those routers serves an OAuth endpoint's path (both come from the one
 * routes table), so a request reaches the same handler either way.
 */
export function createApp(deps: AppDeps): GatehouseApp {
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: deps.proxyHops ?? 1 });
  app.keys = cookieSigner(deps.cookieKeys);
  const health = healthRoutes({ checks: deps.readiness, timeoutMs: deps.readinessTimeoutMs, paths: deps.routes });
  const forwarding = { issuer: deps.issuer, trustProxy: deps.trustProxy, proxyHops: deps.proxyHops ?? 1 };
  const provider = mountProvider(deps.provider, { ...forwarding, routes: deps.routes });

  app.use(deps.edge);
  app.use(health.routes() as Middleware);
  if (deps.metrics !== undefined) app.use(deps.metrics.routes() as Middleware);
  if (deps.interactions !== undefined) app.use(deps.interactions.routes() as Middleware);
  if (deps.selfService !== undefined) app.use(deps.selfService.routes() as Middleware);
  if (deps.console !== undefined) app.use(deps.console);
  if (deps.accountApi !== undefined) app.use(deps.accountApi);
  if (deps.account !== undefined) app.use(deps.account);
  if (deps.admin !== undefined) app.use(deps.admin as Middleware);
  for (const page of deps.pagesBeforeProvider ?? []) app.use(page);
  for (const gate of deps.beforeProvider ?? []) app.use(gate);
  app.use(provider);
  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'unhandled application error'));

  const pages = app.callback();
  const forward = forwardAsIssuer(forwarding);
  const listener: RequestListener = (req, res) => {
    // An absolute-form target is served as its origin form: its host is never ours to build on.
    if (req.url !== undefined && req.url.charCodeAt(0) !== 47 /* / */) req.url = originForm(req.url);
    const url = req.url ?? '';
    // Koa's ctx.path for an origin-form target; anything else ('*') takes the app.
    const query = url.indexOf('?');
    const endpoint = url.charCodeAt(0) === 47 /* / */ ? oauthEndpointAt(deps.routes, query === -1 ? url : url.slice(0, query)) : undefined;
    if (endpoint === undefined) return void pages(req, res);
    forward(req);
    markDirect(req, endpoint);
    void providerHandler(deps.provider())(req, res);
  };
  return { koa: app, listener };
}
