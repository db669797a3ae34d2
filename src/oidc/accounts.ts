import type { Account, FindAccount } from 'oidc-provider';
import { clientFlag } from './client-metadata.ts';

/** A user as the protocol layer sees them: the stable `sub` and their standard claims. */
export interface AccountProfile {
  readonly sub: string;
  /** OpenID standard claims plus `roles` and `groups`; the provider filters them by scope. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface AccountDirectory {
  /** The profile of an active user; undefined for unknown or disabled users. */
  findActive(sub: string): Promise<AccountProfile | undefined>;
}

/**
 * oidc-provider's findAccount: a disabled or deleted user resolves to nothing, so their
 * sessions, refresh tokens and userinfo calls stop working at once.
 */
export function findAccount(accounts: AccountDirectory): FindAccount {
  return async (ctx, sub): Promise<Account | undefined> => {
    const profile = await accounts.findActive(sub);
    if (profile === undefined) return undefined;
    const minimalIdToken = clientFlag(ctx.oidc.client, 'minimal_id_token');
    return {
      accountId: profile.sub,
      claims: (use) => (use === 'id_token' && minimalIdToken ? { sub: profile.sub } : { ...profile.claims, sub: profile.sub }),
    };
  };
}
