import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { runInRequest } from '../observability/request-context.ts';

const ACCEPTABLE = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Takes a sane X-Request-Id from the proxy or makes one; echoes it back; everything downstream
 * (log lines, audit events, error pages via ctx.state.requestId) runs inside its context.
 */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const id = ACCEPTABLE.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await runInRequest({ requestId: id, ip: ctx.ip }, next);
  };
}
