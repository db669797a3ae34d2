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
 */
export interface InteractionHandOff {
  run<T>(uid: string, run: () => Promise<T>): Promise<T>;
  /** The Interaction model's adapter, with held saves inside a scope. */
  wrap(adapter: Adapter): Adapter;
}

export function createInteractionHandOff(): InteractionHandOff {
  const scopes = new AsyncLocalStorage<HandOffScope>();
  const scopeOf = (id: string): HandOffScope | undefined => {
    const scope = scopes.getStore();
    return scope !== undefined && !scope.closed && scope.uid === id ? scope : undefined;
  };
  let store: Adapter | undefined;

  return {
    async run(uid, run) {
      const scope: HandOffScope = { uid, closed: false, heldOnce: false };
      try {
        return await scopes.run(scope, run);
      } finally {
        scope.closed = true;
        const { held } = scope;
        scope.held = undefined;
        if (held !== undefined && store !== undefined) await store.upsert(uid, JSON.parse(held.json) as AdapterPayload, held.expiresIn);
      }
    },
    wrap(adapter) {
      store = adapter;
      return {
        ...adapter,
        async upsert(id, payload, expiresIn) {
          const scope = scopeOf(id);
          if (scope === undefined || scope.heldOnce) {
            // A later save supersedes the held one.
            if (scope !== undefined) scope.held = undefined;
            return adapter.upsert(id, payload, expiresIn);
          }
          scope.heldOnce = true;
          scope.held = { json: JSON.stringify(payload), expiresIn };
        },
        async find(id) {
          const held = scopeOf(id)?.held;
          return held === undefined ? adapter.find(id) : (JSON.parse(held.json) as AdapterPayload);
        },
        async destroy(id) {
          const scope = scopeOf(id);
          if (scope !== undefined) scope.held = undefined;
          return adapter.destroy(id);
        },
      };
    },
  };
}
