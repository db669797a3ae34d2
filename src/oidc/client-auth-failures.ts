import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { clientAuthKey } from '../limits/client-auth-key.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { Logger } from '../observability/logger.ts';
import type { AfterResponseStep } from './after-response.ts';

/** The routes whose error events are counted below (the library emits each on its own route). */
const COUNTED_ROUTES = ['token', 'introspection', 'revocation', 'pushed_authorization_request', 'device_authorization'];

/**
 * Counts failed client authentications (error `invalid_client`) at the token, introspection,
 * revocation, PAR and device-authorization endpoints, from the provider's error events. The
 * library emits those without awaiting listeners, so the count's promise is kept per request
 * and the returned step (after the response, src/oidc/after-response.ts, on those routes)
 * awaits it before the response leaves: the next request's gate (in front of the provider)
 * always sees it.
 */
export function countClientAuthFailures(provider: Provider, limiter: AttemptLimiter, logger: Logger): AfterResponseStep {
  const pending = new WeakMap<object, Promise<void>>();
  const count = (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    if (error?.error !== 'invalid_client') return;
    const counted = limiter.fail(clientAuthKey(ctx.get('authorization'), (ctx as Partial<KoaContextWithOIDC>).oidc?.body, ctx.ip)).catch((failure: unknown) => {
      logger.warn({ err: failure }, 'could not count a failed client authentication');
    });
    pending.set(ctx, counted);
  };
  provider.on('grant.error', count);
  provider.on('introspection.error', count);
  provider.on('revocation.error', count);
  provider.on('pushed_authorization_request.error', count);
  provider.on('device_authorization.error', count);
  return {
    routes: COUNTED_ROUTES,
    // Awaited only when there is one: most requests count nothing.
    after: (ctx) => pending.get(ctx),
  };
}
