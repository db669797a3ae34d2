import Provider, { type Configuration } from 'oidc-provider';

export interface ProviderOptions {
  readonly issuer: string;
  readonly configuration: Configuration;
}

/** Proxy handling is the mount's job (see mount.ts): it pins scheme and host to the issuer. */
export function createProvider({ issuer, configuration }: ProviderOptions): Provider {
  return new Provider(issuer, configuration);
}
