import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ApiRegistry } from '../../apis/registry.ts';
import type { AccountDirectory } from '../accounts.ts';
import { PASSWORD_GRANT } from '../client-metadata.ts';
import { resourceIndicators } from '../resource-servers.ts';
import { parameters as passwordParameters, passwordGrant, type PasswordCheck } from './password.ts';

export interface GrantDeps {
  readonly accounts: AccountDirectory;
  readonly apis: ApiRegistry;
  readonly adminAudience: string;
  /** Present when the server has an account layer; without it the password grant is not offered. */
  readonly checkPassword?: PasswordCheck | undefined;
}

/**
 * The one place Gatehouse's extra grants are registered. The key ring builds a new Provider on
 * every key change (build-provider.ts), so this runs for each instance.
 */
export function registerGrants(provider: Provider, deps: GrantDeps): void {
  const resources = resourceIndicators(deps.apis, deps.adminAudience);
  if (deps.checkPassword !== undefined) {
    const handler = passwordGrant({ checkPassword: deps.checkPassword, accounts: deps.accounts, resources });
    provider.registerGrantType(PASSWORD_GRANT, handler as (ctx: KoaContextWithOIDC) => Promise<void>, passwordParameters);
  }
}
