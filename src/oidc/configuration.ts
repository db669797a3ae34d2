import type { AdapterFactory, Configuration } from 'oidc-provider';
import type { PrivateJwk } from '../keys/generate.ts';

export interface ProviderSettings {
  /** Private signing keys, in signing preference order (see providerJwks). */
  readonly jwks: readonly PrivateJwk[];
  /** Cookie keys shared with the Koa app: the first signs, the rest verify. */
  readonly cookieKeys: readonly string[];
  /** Storage for every oidc-provider model (src/oidc/storage.ts). */
  readonly adapter: AdapterFactory;
}

/**
 * The oidc-provider configuration. Every concern that grows (grants, claims, resource
 * servers, adapters) gets its own module under src/oidc/ and is composed here.
 */
export function providerConfiguration({ jwks, cookieKeys, adapter }: ProviderSettings): Configuration {
  return {
    adapter,
    jwks: { keys: jwks.map((key) => ({ ...key })) },
    cookies: { keys: [...cookieKeys] },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
    },
    features: {
      devInteractions: { enabled: false },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true },
  };
}
