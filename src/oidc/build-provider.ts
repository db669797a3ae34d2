import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { cookieKeyList, providerJwks, type KeySet } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { providerConfiguration, type ProviderSettings } from './configuration.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import { countClientAuthFailures } from './client-auth-failures.ts';
import { attachProviderEvents, type ProviderObservers } from './events.ts';
import { providerErrorBoundary } from './error-boundary.ts';
import type { ErrorPageRenderer } from '../errors/respond.ts';
import { widenFormActionForClient } from './form-targets.ts';
import { createProvider } from './provider.ts';
import { recordRouteNames } from './route-names.ts';

export interface ProviderBuilderDeps {
  readonly issuer: string;
  readonly logger: Logger;
  /** Everything but the keys, which come from the key set at build time. */
  readonly settings: Omit<ProviderSettings, 'jwks' | 'cookieKeys'>;
  /** Adds to the configuration before the instance is built (tests register clients this way). */
  readonly extendConfiguration?: ((configuration: Configuration) => Configuration) | undefined;
  /** Counts failed client authentications (enforced by the gate in front of the provider). */
  readonly clientAuthFailures?: AttemptLimiter | undefined;
  /** Audit and metrics fed from the provider's events. */
  readonly observers?: ProviderObservers | undefined;
  /** Renders errors that escape the provider's own handlers on its browser routes (src/interactions/page-errors.ts). */
  readonly errorPage?: ErrorPageRenderer | undefined;
}

export type BuildProvider = (keySet: KeySet, now: Date) => Provider;

/**
 * The one function that turns a key set into a ready Provider: configuration with the keys as
 * they stand at `now`, then the event listeners. The key ring calls it on every key change.
 */
export function providerBuilder({ issuer, logger, settings, extendConfiguration, clientAuthFailures, observers, errorPage }: ProviderBuilderDeps): BuildProvider {
  return (keySet, now) => {
    const base = providerConfiguration({ ...settings, jwks: providerJwks(keySet, now), cookieKeys: cookieKeyList(keySet, now) });
    const provider = createProvider({ issuer, configuration: extendConfiguration?.(base) ?? base });
    providerErrorBoundary(provider, logger, errorPage);
    recordRouteNames(provider);
    attachProviderEvents(provider, logger, observers);
    if (clientAuthFailures !== undefined) countClientAuthFailures(provider, clientAuthFailures, logger);
    provider.use(widenFormActionForClient);
    return provider;
  };
}
