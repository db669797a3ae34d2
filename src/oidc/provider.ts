import Provider, { type CanBePromise, type Configuration, type TokenEndpointGrantContext } from 'oidc-provider';

/** A grant's handler, as the library registers it. */
export type GrantHandler = (ctx: TokenEndpointGrantContext) => CanBePromise<void>;
type Rest = Parameters<Provider['registerGrantType']> extends [string, unknown, ...infer R] ? R : never;
/** Gives the handler to register for a grant, given the library's own. */
export type WrapGrant = (name: string, handler: GrantHandler) => GrantHandler;

/** One WrapGrant of several (undefined ones skipped): each wraps what the one before gave. */
export function composeWraps(...wraps: ReadonlyArray<WrapGrant | undefined>): WrapGrant | undefined {
  const present = wraps.filter((wrap): wrap is WrapGrant => wrap !== undefined);
  if (present.length <= 1) return present[0];
  return (name, handler) => present.reduce((wrapped, wrap) => wrap(name, wrapped), handler);
}

export interface ProviderOptions {
  readonly issuer: string;
  readonly configuration: Configuration;
  /** Wraps the handlers of the library's built-in grants as it registers them (grants/slow-down.ts). */
  readonly wrapGrant?: WrapGrant | undefined;
}

/** Proxy handling is the mount's job (see mount.ts): it pins scheme and host to the issuer. */
export function createProvider({ issuer, configuration, wrapGrant }: ProviderOptions): Provider {
  if (wrapGrant === undefined) return new Provider(issuer, configuration);
  // The library registers its built-in grants from its constructor, through its public
  // registerGrantType, and keeps the handlers to itself: overriding that method is the one way to
  // wrap one of them without importing the library's internals.
  class WithWrappedGrants extends Provider {
    override registerGrantType<Params extends object>(name: string, handler: (ctx: TokenEndpointGrantContext<Params>) => CanBePromise<void>, ...rest: Rest): void {
      super.registerGrantType(name, wrapGrant!(name, handler as GrantHandler), ...rest);
    }
  }
  return new WithWrappedGrants(issuer, configuration);
}
