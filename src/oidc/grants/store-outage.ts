import type { KoaContextWithOIDC } from 'oidc-provider';
import { asStoreError } from '../../errors/store-unavailable.ts';

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

/**
 * A grant handler whose store failures (the accounts layer's MongoDB reads, the attempt
 * limiter's Redis) reach the library as StoreUnavailableError, which it answers with
 * `503 temporarily_unavailable`; any other unknown error would become `500 server_error`.
 */
export function storeOutagesAs503(handler: GrantHandler): GrantHandler {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (error) {
      throw asStoreError(error);
    }
  };
}
