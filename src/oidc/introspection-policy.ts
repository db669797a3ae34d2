import type { Configuration } from 'oidc-provider';
import type { ApiRegistry } from '../apis/registry.ts';
import type { AccountDirectory } from './accounts.ts';

type Features = NonNullable<Configuration['features']>;
type AllowedPolicy = NonNullable<NonNullable<Features['introspection']>['allowedPolicy']>;

/**
 * Who may learn that a token is active: the client it was issued to, or the API it is for
 * (through the API's bound client). Tokens of a deleted client or a disabled user are reported
 * inactive at once, whatever their expiry.
 */
export function introspectionAllowedPolicy(apis: ApiRegistry, accounts: AccountDirectory): AllowedPolicy {
  return async (ctx, caller, token) => {
    // The caller's own token: its client is the one the library has just authenticated in this request.
    const issuedTo = caller.clientId === token.clientId ? caller : await ctx.oidc.provider.Client.find(token.clientId as string);
    if (issuedTo === undefined) return false;
    const accountId = 'accountId' in token ? token.accountId : undefined;
    if (typeof accountId === 'string' && (await accounts.findActive(accountId)) === undefined) return false;
    if (caller.clientId === token.clientId) return true;
    const audience = 'aud' in token ? token.aud : undefined;
    const audiences = Array.isArray(audience) ? audience : typeof audience === 'string' ? [audience] : [];
    for (const identifier of audiences) {
      const api = await apis.find(identifier);
      if (api?.clientId !== undefined && api.clientId === caller.clientId) return true;
    }
    return false;
  };
}
