import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ApiRegistry } from '../../apis/registry.ts';
import type { AccountDirectory } from '../accounts.ts';
import type { AuditSink } from '../../observability/audit-trail.ts';
import { PASSWORD_GRANT, TOKEN_EXCHANGE_GRANT } from '../client-metadata.ts';
import type { AfterResponseStep } from '../after-response.ts';
import { exchangedTokensFollowTheirOrigin } from './exchange-link.ts';
import { storeOutagesAs503 } from './store-outage.ts';
import { parameters as exchangeParameters, tokenExchangeGrant, type ResolveToken } from './token-exchange.ts';
import { resourceIndicators } from '../resource-servers.ts';
import { openIdScopeTest } from '../claims.ts';
import { claimMapping } from '../../claims/mapped-claims.ts';
import type { ClaimScope } from '../../claims/spec.ts';
import { parameters as passwordParameters, passwordGrant, type PasswordCheck, type SecondFactorCheck, type UnconfirmedEmailCheck } from './password.ts';

export interface GrantDeps {
  readonly accounts: AccountDirectory;
  readonly apis: ApiRegistry;
  readonly adminAudience: string;
  /** Present when the server has an account layer; without it the password grant is not offered. */
  readonly checkPassword?: PasswordCheck | undefined;
  /** Present when JWT records are kept (jwt-records.ts); without it token exchange is not offered. */
  readonly resolveToken?: ResolveToken | undefined;
  readonly audit?: AuditSink | undefined;
  /** The server clock in milliseconds (StartOptions.clock.now), where a grant judges expiry itself. */
  readonly now?: (() => number) | undefined;
  /** Whether a user must use a second factor; the password grant refuses them (it cannot ask for one). */
  readonly needsSecondFactor?: SecondFactorCheck | undefined;
  /** Whether a user must confirm their email address first; the password grant refuses them. */
  readonly emailUnconfirmed?: UnconfirmedEmailCheck | undefined;
  /** Whether confirmation links can be mailed (the password grant's `verify_email`, as the hosted sign-in's). */
  readonly mailAvailable?: boolean | undefined;
  /** The claim scopes this provider is built with (src/claims/): OpenID scopes to the grants, with their claims. */
  readonly claimScopes?: readonly ClaimScope[] | undefined;
}

/**
 * The one place Gatehouse's extra grants are registered. The key ring builds a new Provider on
 * every key change (build-provider.ts), so this runs for each instance. Returns what the grants
 * add after the provider's responses (src/oidc/after-response.ts).
 */
export function registerGrants(provider: Provider, deps: GrantDeps): AfterResponseStep[] {
  const after: AfterResponseStep[] = [];
  const mapping = claimMapping(deps.claimScopes ?? []);
  const resources = resourceIndicators(deps.apis, deps.adminAudience, deps.accounts, openIdScopeTest(mapping));
  if (deps.checkPassword !== undefined) {
    const handler = passwordGrant({
      checkPassword: deps.checkPassword,
      accounts: deps.accounts,
      resources,
      mapping,
      needsSecondFactor: deps.needsSecondFactor,
      emailUnconfirmed: deps.emailUnconfirmed,
      mailAvailable: deps.mailAvailable,
      audit: deps.audit,
      now: deps.now,
    });
    provider.registerGrantType(PASSWORD_GRANT, storeOutagesAs503(handler as (ctx: KoaContextWithOIDC) => Promise<void>), passwordParameters);
  }
  if (deps.resolveToken !== undefined) {
    const handler = tokenExchangeGrant({ resolveToken: deps.resolveToken, accounts: deps.accounts, resources, adminAudience: deps.adminAudience, audit: deps.audit, now: deps.now, mapping });
    provider.registerGrantType(TOKEN_EXCHANGE_GRANT, storeOutagesAs503(handler as (ctx: KoaContextWithOIDC) => Promise<void>), exchangeParameters);
    after.push(exchangedTokensFollowTheirOrigin);
  }
  return after;
}
