import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { cookieKeyList, providerJwks, type KeySet } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import { providerConfiguration, type ProviderSettings } from './configuration.ts';
import type { AttemptLimiter } from '../limits/attempt-limits.ts';
import { countClientAuthFailures } from './client-auth-failures.ts';
import { attachProviderEvents, type ProviderObservers } from './events.ts';
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
  /** Runs around the provider's own routing: the hosted 404 page for browsers (src/interactions/not-found.ts). */
  readonly notFound?: Middleware | undefined;
}

export type BuildProvider = (keySet: KeySet, now: Date) => Provider;

/**
 * The one function that turns a key set into a ready Provider: configuration with the keys as
 * they stand at `now`, then the event listeners. The key ring calls it on every key change.
 */
export function providerBuilder({ issuer, logger, settings, extendConfiguration, clientAuthFailures, observers, notFound }: ProviderBuilderDeps): BuildProvider {
  return (keySet, now) => {
    const base = providerConfiguration({ ...settings, jwks: providerJwks(keySet, now), cookieKeys: cookieKeyList(keySet, now) });
    const provider = createProvider({ issuer, configuration: extendConfiguration?.(base) ?? base });
    recordRouteNames(provider);
    attachProviderEvents(provider, logger, observers);
    if (clientAuthFailures !== undefined) countClientAuthFailures(provider, clientAuthFailures, logger);
    provider.use(widenFormActionForClient);
    if (notFound !== undefined) provider.use(notFound);
    return provider;
  };
}
