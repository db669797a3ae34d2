import type { Middleware } from 'koa';
import { monotonicNow } from '../clock.ts';
import { respondToError, type Logger as ErrorLogger } from '../errors/respond.ts';
import type { Logger } from '../observability/logger.ts';
import { requestContext, runInRequest } from '../observability/request-context.ts';
import { basePolicy, CSP_HEADER, JSON_ENDPOINT_POLICY } from './content-security-policy.ts';
import { compressedBodyError } from './compressed-body.ts';
import { acceptedRequestId } from './request-id.ts';
import { oauthEndpointAt } from '../routes/match.ts';
import type { RoutesTable } from '../routes/table.ts';
import { logWhenClosed, type RequestObserver } from './request-log.ts';
import { pathWords } from './route-label.ts';
import { jsonEndpointHeaderList, securityHeaderList } from './security-headers.ts';

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
  /**
   * `app` (the default): the edge of Gatehouse's Koa app, which sees every path; the pages get the
   * pages' headers, an OAuth endpoint's path the JSON endpoints'. `oauth-endpoints`: the edge the
   * provider runs itself for the OAuth endpoints handed straight to it (src/oidc/direct-front.ts),
   * which are JSON endpoints one and all.
   */
  readonly serves?: 'app' | 'oauth-endpoints' | undefined;
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
 *    src/http/content-security-policy.ts): the pages' set, or on the OAuth endpoints the shorter
 *    set of a JSON answer (jsonEndpointHeaderList says what each is for);
 * 5. the one error mapper (src/errors/respond.ts) around everything after it;
 * 6. a compressed request body refused with 415 (src/http/compressed-body.ts).
 */
export function requestEdge({ issuer, routes, logger, observeRequest, imageSources = [], stopwatch = monotonicNow, serves = 'app' }: EdgeOptions): Middleware {
  const words = pathWords(routes);
  const https = new URL(issuer).protocol === 'https:';
  const pageHeaders: ReadonlyArray<readonly [string, string]> = [...securityHeaderList({ https }), [CSP_HEADER, basePolicy(imageSources)]];
  const jsonHeaders: ReadonlyArray<readonly [string, string]> = [...jsonEndpointHeaderList({ https }), [CSP_HEADER, JSON_ENDPOINT_POLICY]];
  const endpointsOnly = serves === 'oauth-endpoints';
  const errors = { logger };
  return (ctx, next) => {
    const arrivedAt = stopwatch();
    const { req, res } = ctx;
    // The header as Node parsed it (Koa's ctx.get, minus its lower-casing and switch; repeated, Node joins it into one string).
    const incoming = req.headers['x-request-id'];
    const id = acceptedRequestId(typeof incoming === 'string' ? incoming : '');
    ctx.state.requestId = id;
    // Straight onto the response: nothing is sent yet, so this is what Koa's ctx.set does, minus its checks per header.
    res.setHeader('X-Request-Id', id);
    // The provider's own Koa app reads the issuer's scheme already (src/oidc/mount.ts forwardAsIssuer), and the
    // JSON endpoints set no cookie: only the app's requests need telling (and a Cookies object made for it).
    if (https && !endpointsOnly) ctx.cookies.secure = true;
    logWhenClosed(ctx, logger, observeRequest, words);
    const headers = endpointsOnly || oauthEndpointAt(routes, ctx.path) !== undefined ? jsonHeaders : pageHeaders;
    for (const [name, value] of headers) res.setHeader(name, value);
    // next() is koa-compose's dispatch, which answers a throw with a rejected promise: one
    // rejection handler instead of an async function and its await (perf21u).
    // A compressed body is refused before anything downstream reads it (src/http/compressed-body.ts).
    const compressed = req.headers['content-encoding'] === undefined ? undefined : compressedBodyError(req.headers);
    return runInRequest(requestContext(id, ctx, arrivedAt), () => (compressed === undefined ? next() : Promise.reject(compressed)).then(undefined, (raw: unknown) => respondToError(ctx, raw, errors)));
  };
}
