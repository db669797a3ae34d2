import type { ClientRepository } from './repository.ts';

/** What a built-in browser app's client is: first-party, public (code + PKCE), its one URL as redirect and post-logout URI. */
export interface BuiltInClient {
  readonly clientId: string;
  readonly displayName: string;
  /** The app's absolute URL. */
  readonly url: string;
  readonly admin: boolean;
  readonly allowedApis: readonly string[];
  /** Further metadata (the console's default API). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Creates a built-in app's client at startup, or puts it back to what the app needs (the public
 * URL may have changed, an operator may have edited it). Racing instances: one create wins, the
 * other sees the client on its update.
 */
export async function ensureBuiltInClient(clients: Pick<ClientRepository, 'get' | 'create' | 'update'>, client: BuiltInClient): Promise<void> {
  const metadata = {
    redirect_uris: [client.url],
    post_logout_redirect_uris: [client.url],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_pkce: true,
    ...client.metadata,
  };
  const wanted = { displayName: client.displayName, firstParty: true, admin: client.admin, allowedApis: [...client.allowedApis], webOrigins: [new URL(client.url).origin], metadata };
  if ((await clients.get(client.clientId)) === undefined) {
    try {
      await clients.create({ clientId: client.clientId, ...wanted });
      return;
    } catch (error) {
      if ((await clients.get(client.clientId)) === undefined) throw error;
    }
  }
  await clients.update(client.clientId, wanted);
}
