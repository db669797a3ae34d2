import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { clientAuthKey } from '../limits/client-auth-key.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * Counts failed client authentications (error `invalid_client`) at the token, introspection
 * and revocation endpoints. The library emits these events without awaiting listeners, so the
 * count is written in the background; the gate in front of the provider enforces it.
 */
export function countClientAuthFailures(provider: Provider, limiter: AttemptLimiter, logger: Logger): void {
  const count = (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    if (error?.error !== 'invalid_client') return;
    limiter.fail(clientAuthKey(ctx.get('authorization'), (ctx as Partial<KoaContextWithOIDC>).oidc?.body, ctx.ip)).catch((failure: unknown) => {
      logger.warn({ err: failure }, 'could not count a failed client authentication');
    });
  };
  provider.on('grant.error', count);
  provider.on('introspection.error', count);
  provider.on('revocation.error', count);
  provider.on('pushed_authorization_request.error', count);
  provider.on('device_authorization.error', count);
}
