import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import compose from 'koa-compose';

/** Set on a request handed straight to the provider (src/app.ts), past Gatehouse's Koa app. */
const DIRECT = Symbol('gatehouse.direct');
type Marked = IncomingMessage & { [DIRECT]?: true };

export function markDirect(req: IncomingMessage): void {
  (req as Marked)[DIRECT] = true;
}

/**
 * The OAuth endpoints (token, introspection, revocation, userinfo, JWKS, discovery) are handed
 * from the HTTP server straight to the provider's own Koa app (src/app.ts), so each request
 * makes one Koa context instead of two. What Gatehouse's app gave them — the edge (request id,
 * access log and metrics, security headers and CSP, the error mapper) and the gates and swaps in
 * front of the provider — runs here instead, as the provider's outermost middleware, in the same
 * order, on the same request: `steps` are those, ending with the provider's local path
 * (src/oidc/mount.ts). Every other request comes through Gatehouse's app, which already ran them,
 * and passes straight on.
 */
export function directFront(steps: readonly Middleware[]): Middleware {
  const front = compose([...steps]);
  return (ctx, next) => ((ctx.req as Marked)[DIRECT] === true ? front(ctx, next) : next());
}
