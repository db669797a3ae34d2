import type { KoaContextWithOIDC } from 'oidc-provider';
import type { GatehouseError } from '../errors/gatehouse-error.ts';
import { normalizeError } from '../errors/normalize.ts';
import { applyErrorHeaders, errorBody } from '../errors/respond.ts';
import { StoreUnavailableError, unavailableStore } from '../errors/store-unavailable.ts';
import type { AfterResponseStep } from './after-response.ts';

/**
 * Marks the rotated token used and writes its successor (held back by the storage) in one go.
 * Rejects with an OAuth error (invalid_grant) when the rotation lost at this last step.
 */
export type CompleteRotation = (refreshTokenId: string, successorId?: string) => Promise<void>;
/**
 * The rotation's response failed: the storage drops the successor it held back and gives back
 * the rotated token's claim, so the client's retry is not refused. Best effort, never awaited.
 */
export type AbandonRotation = (refreshTokenId: string, successorId?: string) => Promise<void> | void;

/**
 * After the response (src/oidc/after-response.ts), at the token endpoint: a refresh token the refresh grant consumed counts as used
 * only once the response carrying its successor is ready. Until then the storage keeps it
 * usable, so a rotation that failed half-way (a store down while the new refresh or access
 * token is saved) leaves the client's token working instead of making its retry look like
 * reuse, which revokes the grant. If the completion itself cannot be written, the new tokens are
 * not handed out either: the client retries with the token it has. If the storage refuses it
 * (another rotation of the same token completed first, or the token was reused), the answer is
 * that refusal instead.
 */
/** The grant the storage revoked because the current refresh grant's token was reused (src/storage/oidc/refresh-rotation.ts reusedGrant). */
export type ReusedGrant = () => string | undefined;

export function completeRefreshRotations(complete: CompleteRotation, abandon: AbandonRotation = () => {}, reusedGrant: ReusedGrant = () => undefined): AfterResponseStep {
  const entities = (ctx: KoaContextWithOIDC) => (ctx as Partial<KoaContextWithOIDC>).oidc?.entities;
  /** What ran in a `finally` when this was a middleware of its own: after a response, complete or not, and after a failure. */
  const settle = (ctx: KoaContextWithOIDC, completing: boolean) => {
    // A reuse the storage found out itself (past the library's own check) revoked the grant
    // there; announced the way the library announces its own (audit: grant.revoked).
    const reused = reusedGrant();
    const provider = (ctx as Partial<KoaContextWithOIDC>).oidc?.provider;
    if (reused !== undefined && provider !== undefined) provider.emit('grant.revoked', ctx, reused);
    // A rotation that did not complete (an error, or a response other than 200) handed out no
    // successor; the storage must not keep it, nor the claim on the old token.
    const rotated = entities(ctx)?.RotatedRefreshToken;
    if (!completing && rotated !== undefined) {
      const successor = entities(ctx)?.RefreshToken;
      const successorId = successor === undefined || successor === rotated ? undefined : successor.jti;
      void Promise.resolve()
        .then(() => abandon(rotated.jti, successorId))
        .catch(() => {});
    }
  };
  return {
    routes: ['token'],
    // Synchronous for every token response that rotated nothing (client_credentials, codes, a
    // failed grant): no promise, no microtask (src/oidc/after-response.ts; docs/PERFORMANCE.md, perf16).
    after(ctx) {
      const rotated = entities(ctx)?.RotatedRefreshToken;
      if (rotated === undefined || ctx.status !== 200) {
        settle(ctx, false);
        return;
      }
      return completeRotation(ctx, rotated.jti);
    },
    failed: (ctx) => settle(ctx, false),
  };

  /** A rotation answered 200: its completion is written now (settled as completing whatever happens). */
  async function completeRotation(ctx: KoaContextWithOIDC, rotatedId: string): Promise<void> {
    try {
      await complete(rotatedId, entities(ctx)?.RefreshToken?.jti);
    } catch (error) {
      const refusal = completionRefusal(error);
      if (refusal === undefined) throw error;
      // The response is already built, so the error is rendered here, in the one error shape.
      applyErrorHeaders(ctx, refusal);
      ctx.body = errorBody(refusal, ctx.response.get('X-Request-Id') || undefined);
    } finally {
      settle(ctx, true);
    }
  }
}

/** A store outage (503), or the OAuth error the storage refused the completion with (4xx); anything else is a bug. */
function completionRefusal(error: unknown): GatehouseError | undefined {
  const store = unavailableStore(error);
  if (store !== undefined) return new StoreUnavailableError(store, { cause: error });
  const normalized = normalizeError(error);
  return normalized.status >= 400 && normalized.status < 500 ? normalized : undefined;
}
