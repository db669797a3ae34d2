import Koa, { type Middleware } from 'koa';
import type { Router, RouterMiddleware } from '@koa/router';
import type Provider from 'oidc-provider';
import { errorResponder } from './errors/respond.ts';
import { contentSecurityPolicy } from './http/content-security-policy.ts';
import { issuerScheme } from './http/issuer-scheme.ts';
import { requestId } from './http/request-id.ts';
import { requestLog, type RequestObserver } from './http/request-log.ts';
import { securityHeaders } from './http/security-headers.ts';
import { healthRoutes, type ReadinessCheck } from './observability/health.ts';
import type { Logger } from './observability/logger.ts';
import { mountProvider } from './oidc/mount.ts';
import type { RoutesTable } from './routes/table.ts';

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
  /** Runs right before the provider (e.g. the JWT introspection swap). */
  readonly beforeProvider?: readonly Middleware[];
}

/** The HTTP pipeline, top to bottom. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: deps.proxyHops ?? 1, keys: [...deps.cookieKeys] });
  const health = healthRoutes({ checks: deps.readiness, timeoutMs: deps.readinessTimeoutMs, paths: deps.routes });

  app.use(requestId());
  app.use(issuerScheme(deps.issuer));
  app.use(requestLog(deps.logger, deps.observeRequest));
  app.use(securityHeaders({ https: new URL(deps.issuer).protocol === 'https:' }));
  app.use(contentSecurityPolicy({ imageSources: deps.imageSources ?? [] }));
  app.use(errorResponder({ logger: deps.logger }));
  app.use(health.routes());
  if (deps.metrics !== undefined) app.use(deps.metrics.routes());
  if (deps.interactions !== undefined) app.use(deps.interactions.routes());
  if (deps.selfService !== undefined) app.use(deps.selfService.routes());
  if (deps.console !== undefined) app.use(deps.console);
  if (deps.accountApi !== undefined) app.use(deps.accountApi);
  if (deps.account !== undefined) app.use(deps.account);
  if (deps.admin !== undefined) app.use(deps.admin);
  for (const middleware of deps.beforeProvider ?? []) app.use(middleware);
  app.use(mountProvider(deps.provider, { issuer: deps.issuer, trustProxy: deps.trustProxy, routes: deps.routes }));

  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'unhandled application error'));
  return app;
}
