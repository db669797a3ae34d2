import type { Middleware } from 'koa';
import { monotonicNow } from '../clock.ts';
import { respondToError, type Logger as ErrorLogger } from '../errors/respond.ts';
import type { Logger } from '../observability/logger.ts';
import { requestContext, runInRequest } from '../observability/request-context.ts';
import { basePolicy, CSP_HEADER } from './content-security-policy.ts';
import { acceptedRequestId } from './request-id.ts';
import type { RoutesTable } from '../routes/table.ts';
import { logWhenClosed, type RequestObserver } from './request-log.ts';
import { pathWords } from './route-label.ts';
import { securityHeaderList } from './security-headers.ts';

export interface EdgeOptions {
  readonly issuer: string;
  /** Every path Gatehouse serves: the access log keeps only their words of a path no route matched. */
  readonly routes: RoutesTable;
  readonly logger: Logger & ErrorLogger;
  readonly observeRequest?: RequestObserver | undefined;
  /** Extra img-src sources for the pages (the operator's logo origin). */
  readonly imageSources?: readonly string[] | undefined;
  /** The instance's stopwatch (Wiring.stopwatch): each request's arrival is noted on it. */
  readonly stopwatch?: (() => number) | undefined;
}

/**
 * What every request goes through first, in this order, as one middleware (one step of the
 * chain instead of six on every request, the OAuth endpoints' included):
 *
 * 1. the request id: a sane X-Request-Id from the proxy, or a new one; echoed back; everything
 *    downstream (log lines, audit events, error bodies via ctx.state.requestId) runs inside its
 *    context (src/http/request-id.ts), which also notes when the request arrived (device polls
 *    are judged by it, src/limits/device-polls.ts);
 * 2. the issuer's scheme: behind a TLS proxy the connection is plain HTTP and not every proxy
 *    sends X-Forwarded-Proto; when the issuer is https, cookies are Secure whatever the
 *    connection says (Koa would otherwise refuse to set them; the provider mount does the same,
 *    src/oidc/mount.ts);
 * 3. the access log line and the request metrics, when the response closes (src/http/request-log.ts);
 * 4. the security headers and the base Content-Security-Policy (src/http/security-headers.ts,
 *    src/http/content-security-policy.ts);
 * 5. the one error mapper (src/errors/respond.ts) around everything after it.
 */
export function requestEdge({ issuer, routes, logger, observeRequest, imageSources = [], stopwatch = monotonicNow }: EdgeOptions): Middleware {
  const words = pathWords(routes);
  const https = new URL(issuer).protocol === 'https:';
  const headers: ReadonlyArray<readonly [string, string]> = [...securityHeaderList({ https }), [CSP_HEADER, basePolicy(imageSources)]];
  const errors = { logger };
  return (ctx, next) => {
    const arrivedAt = stopwatch();
    const id = acceptedRequestId(ctx.get('X-Request-Id'));
    ctx.state.requestId = id;
    // Straight onto the response: nothing is sent yet, so this is what Koa's ctx.set does, minus its checks per header.
    const { res } = ctx;
    res.setHeader('X-Request-Id', id);
    if (https) ctx.cookies.secure = true;
    logWhenClosed(ctx, logger, observeRequest, words);
    for (const [name, value] of headers) res.setHeader(name, value);
    return runInRequest(requestContext(id, ctx, arrivedAt), async () => {
      try {
        await next();
      } catch (raw) {
        await respondToError(ctx, raw, errors);
      }
    });
  };
}
