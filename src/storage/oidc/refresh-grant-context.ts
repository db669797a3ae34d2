import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClaimHolder } from './rotation-claims.ts';
/** What the refresh grant in progress presents, and what its storage found out (inRefreshGrant). */
export interface RefreshGrantScope extends ClaimHolder {
  readonly refreshToken: string;
  /** Set when the presented token turned out to be reused after its rotation: its grant was revoked. */
  reusedGrantId?: string;
}

/**
 * The refresh grant of one request, as the storage sees it: an AsyncLocalStorage that the server
 * enters in front of the provider (src/oidc/refresh-grant-scope.ts) for every
 * `grant_type=refresh_token` request. The adapter calls of that request — find, consume, the
 * successor's upsert, completeRotation / abandonRotation from the provider middleware — run inside
 * it, which is what ties a rotation's completion to its own claim (rotation-claims.ts).
 */
export interface RefreshGrantContext {
  run<T>(refreshToken: string, run: () => T): T;
  current(): RefreshGrantScope | undefined;
}

export function createRefreshGrantContext(): RefreshGrantContext {
  const scopes = new AsyncLocalStorage<RefreshGrantScope>();
  return {
    run: (refreshToken, run) => scopes.run({ refreshToken }, run),
    current: () => scopes.getStore(),
  };
}
