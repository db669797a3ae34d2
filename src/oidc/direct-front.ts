import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import { actsOn, type EndpointName } from '../routes/guards.ts';

/** Set on a request handed straight to the provider (src/app.ts), past Gatehouse's Koa app: the endpoint it is for. */
const DIRECT = Symbol('gatehouse.direct');
type Marked = IncomingMessage & { [DIRECT]?: EndpointName };

export function markDirect(req: IncomingMessage, endpoint: EndpointName): void {
  (req as Marked)[DIRECT] = endpoint;
}

/**
 * The OAuth endpoints (token, introspection, revocation, userinfo, JWKS, discovery) are handed
 * from the HTTP server straight to the provider's own Koa app (src/app.ts), so each request
 * makes one Koa context instead of two. What Gatehouse's app gave them — the edge (request id,
 * access log and metrics, security headers and CSP, the error mapper) and the gates and swaps in
 * front of the provider — runs here instead, as the provider's outermost middleware, in the same
 * order, on the same request: `steps` are those, ending with the provider's local path
 * (src/oidc/mount.ts). The endpoint is known before the request starts, so each gets only the
 * steps that act on it (src/routes/guards.ts: userinfo runs the edge and its JWT swap, not the
 * client-authentication gate). Every other request comes through Gatehouse's app, which already
 * ran them, and passes straight on.
 */
export function directFront(steps: readonly Middleware[]): Middleware {
  const fronts = new Map<EndpointName, Middleware>();
  const frontOf = (endpoint: EndpointName): Middleware => {
    let front = fronts.get(endpoint);
    if (front === undefined) {
      front = compose(steps.filter((step) => actsOn(step, endpoint)));
      fronts.set(endpoint, front);
    }
    return front;
  };
  return (ctx, next) => {
    const endpoint = (ctx.req as Marked)[DIRECT];
    return endpoint === undefined ? next() : frontOf(endpoint)(ctx, next);
  };
}
