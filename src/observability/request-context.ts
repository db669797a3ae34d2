import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
  /** The caller's address as Koa sees it (X-Forwarded-For only behind a trusted proxy). */
  readonly ip?: string | undefined;
}

/**
 * The request a piece of code runs for. The logger's mixin and the audit trail read it, so
 * every line and event written while serving a request carries its id and address without
 * threading them through every call.
 */
const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, run: () => T): T {
  return storage.run(context, run);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function currentRequestIp(): string | undefined {
  return storage.getStore()?.ip;
}
