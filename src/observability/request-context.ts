import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
}

/**
 * The request a piece of code runs for. The logger's mixin and the audit recorder read it, so
 * every line and event written while serving a request carries its id without threading the id
 * through every call.
 */
const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(context: RequestContext, run: () => T): T {
  return storage.run(context, run);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
