import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { cookieKeyList, providerJwks, type KeySet } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { providerConfiguration, type ProviderSettings } from './configuration.ts';
import { attachProviderEvents, type ProviderObservers } from './events.ts';
import { createProvider } from './provider.ts';
import { recordRouteNames } from './route-names.ts';

export interface ProviderBuilderDeps {
  readonly issuer: string;
  readonly logger: Logger;
  /** Everything but the keys, which come from the key set at build time. */
  readonly settings: Omit<ProviderSettings, 'jwks' | 'cookieKeys'>;
  /** Adds to the configuration before the instance is built (tests register clients this way). */
  readonly extendConfiguration?: ((configuration: Configuration) => Configuration) | undefined;
  /** Audit and metrics fed from the provider's events. */
  readonly observers?: ProviderObservers | undefined;
}

export type BuildProvider = (keySet: KeySet, now: Date) => Provider;

/**
 * The one function that turns a key set into a ready Provider: configuration with the keys as
 * they stand at `now`, then the event listeners. The key ring calls it on every key change.
 */
export function providerBuilder({ issuer, logger, settings, extendConfiguration, observers }: ProviderBuilderDeps): BuildProvider {
  return (keySet, now) => {
    const base = providerConfiguration({ ...settings, jwks: providerJwks(keySet, now), cookieKeys: cookieKeyList(keySet, now) });
    const provider = createProvider({ issuer, configuration: extendConfiguration?.(base) ?? base });
    recordRouteNames(provider);
    attachProviderEvents(provider, logger, observers);
    return provider;
  };
}
