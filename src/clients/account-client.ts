import type { ClientRepository } from './repository.ts';

/** The account page's client id: a built-in first-party public client (code + PKCE). */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

export interface AccountClientDeps {
  readonly clients: Pick<ClientRepository, 'get' | 'create' | 'update'>;
  /** The account page's absolute URL (its redirect and post-logout URI). */
  readonly accountUrl: string;
}

/**
 * Creates the account page's client at startup, or puts it back to what the page needs (the
 * public URL may have changed, an operator may have edited it). It asks for no API: its access
 * tokens are opaque, good for userinfo and the account API only. Racing instances: one create
 * wins, the other sees the client on its update.
 */
export async function ensureAccountClient({ clients, accountUrl }: AccountClientDeps): Promise<void> {
  const metadata = {
    redirect_uris: [accountUrl],
    post_logout_redirect_uris: [accountUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_pkce: true,
  };
  const wanted = { displayName: 'Account', firstParty: true, admin: false, allowedApis: [], webOrigins: [new URL(accountUrl).origin], metadata };
  if ((await clients.get(ACCOUNT_CLIENT_ID)) === undefined) {
    try {
      await clients.create({ clientId: ACCOUNT_CLIENT_ID, ...wanted });
      return;
    } catch (error) {
      if ((await clients.get(ACCOUNT_CLIENT_ID)) === undefined) throw error;
    }
  }
  await clients.update(ACCOUNT_CLIENT_ID, wanted);
}
