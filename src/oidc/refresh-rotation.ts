import type { KoaContextWithOIDC } from 'oidc-provider';
import { StoreUnavailableError, unavailableStore } from '../errors/store-unavailable.ts';

export type CompleteRotation = (refreshTokenId: string) => Promise<void>;

/**
 * Provider middleware (provider.use): a refresh token the refresh grant consumed counts as used
 * only once the response carrying its successor is ready. Until then the storage keeps it
 * usable, so a rotation that failed half-way (a store down while the new refresh or access
 * token is saved) leaves the client's token working instead of making its retry look like
 * reuse, which revokes the grant. If the mark itself cannot be written, the new tokens are not
 * handed out either: the client retries with the token it has.
 */
export function completeRefreshRotations(complete: CompleteRotation) {
  return async function completeRefreshRotation(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const rotated = (ctx as Partial<KoaContextWithOIDC>).oidc?.entities.RotatedRefreshToken;
    if (rotated === undefined || ctx.status !== 200) return;
    try {
      await complete(rotated.jti);
    } catch (error) {
      const store = unavailableStore(error);
      if (store === undefined) throw error;
      const outage = new StoreUnavailableError(store, { cause: error });
      ctx.status = outage.status;
      ctx.set('Retry-After', '5');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: outage.error, error_description: outage.error_description };
    }
  };
}
