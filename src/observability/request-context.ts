import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
  /** The caller's address as Koa sees it (X-Forwarded-For only behind a trusted proxy). */
  readonly ip?: string | undefined;
  /**
   * When the request arrived, on the instance's stopwatch (Wiring.stopwatch: a monotonic clock,
   * milliseconds): what is judged by when it came, not by when it was got to (device polls,
   * src/limits/device-polls.ts), measures its own wait from this.
   */
  readonly arrivedAt?: number | undefined;
}

/**
 * The request a piece of code runs for. The logger's mixin and the audit trail read it, so
 * every line and event written while serving a request carries its id and address without
 * threading them through every call.
 */
const storage = new AsyncLocalStorage<RequestContext>();

/**
 * A request's context whose `ip` is read from the request when something asks (an audit event),
 * not on every request: behind a proxy Koa splits X-Forwarded-For for it, and most requests
 * (userinfo, introspection, JWKS) never ask. Read once, then kept.
 */
export function requestContext(requestId: string, request: { readonly ip: string }, arrivedAt?: number): RequestContext {
  return new LazyAddress(requestId, request, arrivedAt);
}

class LazyAddress implements RequestContext {
  readonly requestId: string;
  readonly arrivedAt: number | undefined;
  #request: { readonly ip: string } | undefined;
  #ip: string | undefined;

  constructor(requestId: string, request: { readonly ip: string }, arrivedAt: number | undefined) {
    this.requestId = requestId;
    this.arrivedAt = arrivedAt;
    this.#request = request;
  }

  get ip(): string | undefined {
    if (this.#request !== undefined) {
      this.#ip = this.#request.ip;
      this.#request = undefined;
    }
    return this.#ip;
  }
}

export function runInRequest<T>(context: RequestContext, run: () => T): T {
  return storage.run(context, run);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function currentRequestIp(): string | undefined {
  return storage.getStore()?.ip;
}

/** When the request being served arrived (RequestContext.arrivedAt), if it was noted. */
export function currentRequestArrival(): number | undefined {
  return storage.getStore()?.arrivedAt;
}
