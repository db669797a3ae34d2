import type Provider from 'oidc-provider';
import type { Logger } from '../observability/logger.ts';

/**
 * Listeners for one Provider instance. Key rotation builds a new instance, so this runs for
 * every instance the key ring builds (see build-provider.ts), never once at startup.
 */
export function attachProviderEvents(provider: Provider, logger: Logger): void {
  provider.on('server_error', (_ctx: unknown, error: unknown) => {
    logger.error({ err: error }, 'provider server error');
  });
}
