import type { KoaContextWithOIDC } from 'oidc-provider';
import { STORE_RETRY_AFTER_SECONDS } from '../errors/store-unavailable.ts';

/**
 * Provider middleware: the library renders a store outage thrown by the adapter as
 * `503 temporarily_unavailable` (StoreUnavailableError is shaped like its own errors) but sets no
 * `Retry-After`; every 503 from the provider's endpoints gets one, as every other surface does.
 */
export async function retryAfterOnOutage(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
}
