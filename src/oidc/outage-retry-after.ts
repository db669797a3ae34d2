import type { Context } from 'koa';
import { STORE_RETRY_AFTER_SECONDS } from '../errors/store-unavailable.ts';

/**
 * The library renders a store outage thrown by the adapter as `503 temporarily_unavailable`
 * (StoreUnavailableError is shaped like its own errors) but sets no `Retry-After`; every 503 from
 * the provider's endpoints gets one, as every other surface does. Called by the provider's
 * outermost middleware once the library answered (src/oidc/error-boundary.ts).
 */
export function retryAfterOnOutage(ctx: Pick<Context, 'status' | 'response' | 'set'>): void {
  if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
}
