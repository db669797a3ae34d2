import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { providerLocalPath } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface MountOptions {
  readonly issuer: string;
  /** Whether X-Forwarded-For from the peer is believed (client IPs for rate limits and logs). */
  readonly trustProxy: boolean;
  /** The provider is mounted at `routes.providerBase` (the issuer's path). */
  readonly routes: RoutesTable;
}

/**
 * Hands the request to whichever Provider is current. The provider is looked up per request
 * so that a new instance (after a key change) can be swapped in while in-flight requests
 * finish on the old one.
 *
 * Every URL the provider builds (discovery, redirects, cookie security) derives from the
 * configured issuer, never from the Host header a client sent: the provider runs in proxy mode
 * and sees the issuer's host and scheme as the forwarded ones. This closes Host-header
 * injection into discovery documents and keeps `Secure` cookies right behind TLS proxies.
 */
export function mountProvider(currentProvider: () => Provider, { issuer, trustProxy, routes }: MountOptions): Middleware {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  const handlers = new WeakMap<Provider, Handler>();
  const base = routes.providerBase;
  return async (ctx, next) => {
    const local = providerLocalPath(routes, ctx.path);
    if (local === undefined) return next();
    if (base !== '') {
      // Mounted below the root: the provider routes the local path and builds its URLs from
      // the mount path it reads off originalUrl (lib/helpers/oidc_context.js urlFor).
      const search = ctx.querystring === '' ? '' : `?${ctx.querystring}`;
      ctx.req.url = `${local}${search}`;
      (ctx.req as typeof ctx.req & { originalUrl?: string }).originalUrl = `${base}${local}${search}`;
    }
    const provider = currentProvider();
    let handler = handlers.get(provider);
    if (handler === undefined) {
      provider.proxy = true;
      handler = provider.callback() as Handler;
      handlers.set(provider, handler);
    }
    const { headers } = ctx.req;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = scheme;
    if (trustProxy) headers['x-forwarded-for'] = ctx.ips.length > 0 ? ctx.ips.join(', ') : ctx.ip;
    else headers['x-forwarded-for'] = ctx.req.socket.remoteAddress ?? '';
    ctx.respond = false;
    await handler(ctx.req, ctx.res);
  };
}
