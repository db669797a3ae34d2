import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { originForm } from '../http/origin-form.ts';
import { guarding } from '../routes/guards.ts';
import { providerLocalPath } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ForwardingOptions {
  readonly issuer: string;
  /** Whether X-Forwarded-For from the peer is believed (client IPs for rate limits and logs). */
  readonly trustProxy: boolean;
  /** Only the last this many X-Forwarded-For entries are believed (0: all), as Koa's maxIpsCount. */
  readonly proxyHops: number;
}

export interface MountOptions extends ForwardingOptions {
  /** The provider is mounted at `routes.providerBase` (the issuer's path). */
  readonly routes: RoutesTable;
}

const handlers = new WeakMap<Provider, RequestHandler>();

/** A provider's own request handler (its Koa app's callback), made once per instance, in proxy mode (see forwardAsIssuer). */
export function providerHandler(provider: Provider): RequestHandler {
  let handler = handlers.get(provider);
  if (handler === undefined) {
    provider.proxy = true;
    handler = provider.callback() as RequestHandler;
    handlers.set(provider, handler);
  }
  return handler;
}

/**
 * The caller's address chain as Gatehouse's Koa app reads it (`ctx.ips`, else `ctx.ip`): the
 * last `proxyHops` X-Forwarded-For entries behind a trusted proxy, else the peer's address.
 * The direct path to the provider (src/app.ts) has no Koa context of ours to ask, so both paths
 * use this one reading (test/unit/forwarded-for.test.ts holds it to Koa's).
 */
export function forwardedFor(req: IncomingMessage, { trustProxy, proxyHops }: Pick<ForwardingOptions, 'trustProxy' | 'proxyHops'>): string {
  const remote = req.socket.remoteAddress ?? '';
  if (!trustProxy) return remote;
  const header = req.headers['x-forwarded-for'];
  let ips = typeof header === 'string' && header !== '' ? header.split(',').map((entry) => entry.trim()) : [];
  if (proxyHops > 0) ips = ips.slice(-proxyHops);
  return ips.length > 0 ? ips.join(', ') : remote;
}

/**
 * Every URL the provider builds (discovery, redirects, cookie security) derives from the
 * configured issuer, never from the Host header a client sent: the provider runs in proxy mode
 * and is told the issuer's host and scheme as the forwarded ones, and the caller's address as
 * Gatehouse reads it. This closes Host-header injection into discovery documents and keeps
 * `Secure` cookies right behind TLS proxies. Runs before the provider's Koa context reads them.
 */
export function forwardAsIssuer(options: ForwardingOptions): (req: IncomingMessage) => void {
  const { host, protocol } = new URL(options.issuer);
  const scheme = protocol.slice(0, -1);
  return (req) => {
    const forwarded = forwardedFor(req, options);
    const { headers } = req;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = scheme;
    headers['x-forwarded-for'] = forwarded;
  };
}

/**
 * Mounted below the root, the provider routes the local path and builds its URLs from the mount
 * path it reads off `req.originalUrl` (lib/helpers/oidc_context.js urlFor): rewrites the request
 * for it. `setUrl` is how the URL is changed (on the raw request before the provider's context
 * exists, or through a context already made).
 */
function toLocalPath(routes: RoutesTable, path: string, querystring: string, req: IncomingMessage, setUrl: (url: string) => void): void {
  const local = providerLocalPath(routes, path);
  if (local === undefined || routes.providerBase === '') return;
  const search = querystring === '' ? '' : `?${querystring}`;
  setUrl(`${local}${search}`);
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = `${routes.providerBase}${local}${search}`;
}

/**
 * Provider middleware for requests handed straight to the provider (src/app.ts): what the mount
 * does before the provider's context exists, done inside it, after the gates (which see the
 * request's own path) and before the provider's router.
 */
export function providerLocalPathStep(routes: RoutesTable): Middleware {
  // At the root there is nothing to rewrite: a step that acts on no route, left out of every endpoint's front (src/oidc/direct-front.ts).
  if (routes.providerBase === '') return guarding([], (_ctx, next) => next());
  return (ctx, next) => {
    toLocalPath(routes, ctx.path, ctx.querystring, ctx.req, (url) => (ctx.url = url));
    return next();
  };
}

/**
 * Gatehouse's Koa app hands the request to whichever Provider is current (every path the app does
 * not answer itself; the OAuth endpoints skip the app, src/app.ts). The provider is looked up per
 * request so that a new instance (after a key change) can be swapped in while in-flight requests
 * finish on the old one.
 */
export function mountProvider(currentProvider: () => Provider, options: MountOptions): Middleware {
  const forward = forwardAsIssuer(options);
  const { routes } = options;
  return async (ctx, next) => {
    if (providerLocalPath(routes, ctx.path) === undefined) return next();
    // The app may be handed an absolute-form target (src/app.ts turns them into origin form first).
    if (ctx.req.url !== undefined && ctx.req.url.charCodeAt(0) !== 47 /* / */) ctx.req.url = originForm(ctx.req.url);
    toLocalPath(routes, ctx.path, ctx.querystring, ctx.req, (url) => (ctx.req.url = url));
    forward(ctx.req);
    ctx.respond = false;
    await providerHandler(currentProvider())(ctx.req, ctx.res);
  };
}
