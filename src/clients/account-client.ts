import { ensureBuiltInClient } from './built-in-client.ts';
import type { ClientRepository } from './repository.ts';

/** The account page's client id: a built-in first-party public client (code + PKCE). */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

export interface AccountClientDeps {
  readonly clients: Pick<ClientRepository, 'get' | 'create' | 'update'>;
  /** The account page's absolute URL (its redirect and post-logout URI). */
  readonly accountUrl: string;
}

/**
 * Creates the account page's client at startup, or puts it back to what the page needs. It asks
 * for no API: its access tokens are opaque, good for userinfo and the account API only.
 */
export async function ensureAccountClient({ clients, accountUrl }: AccountClientDeps): Promise<void> {
  await ensureBuiltInClient(clients, { clientId: ACCOUNT_CLIENT_ID, displayName: 'Account', url: accountUrl, admin: false, allowedApis: [] });
}
