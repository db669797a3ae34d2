import { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface HandOffScope {
  readonly uid: string;
  /** The interaction's save held back in this scope (JSON: what a store round trip would give back). */
  held?: { readonly json: string; readonly expiresIn: number | undefined };
  /** A save was held once already: the next ones write through. */
  heldOnce: boolean;
  /** After the scope's run: everything goes to the store again. */
  closed: boolean;
  /** Destroyed in the scope; the store's copy goes with the scope's next write (`alongside`) or when the run ends. */
  destroyDeferred: boolean;
}

/**
 * A finished sign-in step and the resume it runs in the same request (src/interactions/resume-here.ts)
 * save the interaction with its result and, a moment later, read it back and destroy it: two Redis
 * round trips for a record nobody else reads in between. Inside `run(uid, …)` the save of that
 * interaction is held back in memory: a read of it in the scope gets what was saved, its destroy
 * drops the held save (and destroys it in the store, which still holds the interaction as /auth
 * saved it), and whatever is still held when the run ends is written then — so the store ends as
 * it would have without the scope. A second save of it in the scope writes through at once (the
 * resume saves an interaction it does not destroy only before answering with a page that needs it
 * stored). Other interactions — the next step's, made by the same resume — are never held: the
 * browser is sent to them before the scope ends.
 *
 * The record was read through the interaction cookie by the same request (the binding), so
 * serving it from the scope is reading one's own write; another request that reads it meanwhile
 * sees it as /auth saved it (without this step's result), as it would have a moment earlier.
 *
 * With `deferDestroy` (the interactions live in Redis), the resume's destroy of the interaction is
 * not a round trip of its own: it is sent with the scope's next write to Redis — the
 * authorization code's save, a moment later in the same resume — in one pipeline (one `write`,
 * one reply read; ioredis's auto-pipelining), or when the run ends, whichever comes first. Either
 * way before the request answers, as before: the browser has its code only after the interaction
 * is gone. In the scope the interaction reads as destroyed from its destroy on; a later save of it
 * sends the destroy first. Another request that reads it in that moment sees it as /auth saved it —
 * as it could between this request's read and its destroy before (a replayed form POST needs the
 * password again and races the same way with or without the deferral).
 */
export interface InteractionHandOff {
  run<T>(uid: string, run: () => Promise<T>): Promise<T>;
  /** The Interaction model's adapter, with held saves inside a scope. */
  wrap(adapter: Adapter): Adapter;
  /**
   * Runs a write to the store the interactions live in (another model's save); a destroy the
   * scope deferred is sent along with it, in the same tick, and the write resolves once both did.
   */
  alongside<T>(write: () => Promise<T>): Promise<T>;
}

export function createInteractionHandOff({ deferDestroy = false }: { deferDestroy?: boolean } = {}): InteractionHandOff {
  const scopes = new AsyncLocalStorage<HandOffScope>();
  const scopeOf = (id: string): HandOffScope | undefined => {
    const scope = scopes.getStore();
    return scope !== undefined && !scope.closed && scope.uid === id ? scope : undefined;
  };
  let store: Adapter | undefined;
  /** Sends the scope's deferred destroy (synchronously up to the store's command). */
  const sendDestroy = (scope: HandOffScope): Promise<void> => {
    scope.destroyDeferred = false;
    return store === undefined ? Promise.resolve() : store.destroy(scope.uid);
  };

  return {
    async run(uid, run) {
      const scope: HandOffScope = { uid, closed: false, heldOnce: false, destroyDeferred: false };
      let failed = false;
      try {
        return await scopes.run(scope, run);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        scope.closed = true;
        const { held } = scope;
        scope.held = undefined;
        if (scope.destroyDeferred) {
          // A failed run keeps its own error; the destroy's would otherwise replace it.
          const destroyed = sendDestroy(scope);
          if (failed) await destroyed.catch(() => {});
          else await destroyed;
        } else if (held !== undefined && store !== undefined) await store.upsert(uid, JSON.parse(held.json) as AdapterPayload, held.expiresIn);
      }
    },
    alongside(write) {
      const scope = scopes.getStore();
      if (scope === undefined || scope.closed || !scope.destroyDeferred) return write();
      const destroyed = sendDestroy(scope);
      const written = write();
      return Promise.all([destroyed, written]).then(([, value]) => value);
    },
    wrap(adapter) {
      store = adapter;
      return {
        ...adapter,
        async upsert(id, payload, expiresIn) {
          const scope = scopeOf(id);
          // Saved again after its destroy: the destroy goes first, as it was called first.
          if (scope?.destroyDeferred === true) await sendDestroy(scope);
          if (scope === undefined || scope.heldOnce) {
            // A later save supersedes the held one.
            if (scope !== undefined) scope.held = undefined;
            return adapter.upsert(id, payload, expiresIn);
          }
          scope.heldOnce = true;
          scope.held = { json: JSON.stringify(payload), expiresIn };
        },
        async find(id) {
          const scope = scopeOf(id);
          if (scope?.destroyDeferred === true) return undefined;
          const held = scope?.held;
          return held === undefined ? adapter.find(id) : (JSON.parse(held.json) as AdapterPayload);
        },
        async destroy(id) {
          const scope = scopeOf(id);
          if (scope === undefined) return adapter.destroy(id);
          scope.held = undefined;
          if (deferDestroy) scope.destroyDeferred = true;
          else return adapter.destroy(id);
        },
      };
    },
  };
}
