import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { requestContext, runInRequest } from '../observability/request-context.ts';

const ACCEPTABLE = /^[A-Za-z0-9._-]{8,64}$/;

/** The proxy's X-Request-Id when it is sane, else a new one. */
export function acceptedRequestId(incoming: string): string {
  return ACCEPTABLE.test(incoming) ? incoming : randomUUID();
}

/**
 * Takes a sane X-Request-Id from the proxy or makes one; echoes it back; everything downstream
 * (log lines, audit events, error pages via ctx.state.requestId) runs inside its context.
 */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const id = acceptedRequestId(ctx.get('X-Request-Id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await runInRequest(requestContext(id, ctx), next);
  };
}
