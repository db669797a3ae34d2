import type { ClientRepository } from './repository.ts';

/** The admin console's client id: a built-in first-party public client (code + PKCE). */
export const CONSOLE_CLIENT_ID = 'gatehouse-console';

export interface ConsoleClientDeps {
  readonly clients: Pick<ClientRepository, 'get' | 'create' | 'update'>;
  /** The API identifier of the admin API (the console's only API). */
  readonly adminAudience: string;
  /** The console's absolute URL (its redirect and post-logout URI). */
  readonly consoleUrl: string;
}

function consoleMetadata(consoleUrl: string): Record<string, unknown> {
  return {
    redirect_uris: [consoleUrl],
    post_logout_redirect_uris: [consoleUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_pkce: true,
  };
}

/**
 * Creates the console's client at startup, or puts its redirect URIs, grants and API access back
 * to what the console needs (the public URL may have changed). Racing instances: one create wins,
 * the other sees the client on its update.
 */
export async function ensureConsoleClient({ clients, adminAudience, consoleUrl }: ConsoleClientDeps): Promise<void> {
  const metadata = { ...consoleMetadata(consoleUrl), default_api: adminAudience };
  const wanted = { displayName: 'Gatehouse admin console', firstParty: true, admin: true, allowedApis: [adminAudience], webOrigins: [new URL(consoleUrl).origin], metadata };
  if ((await clients.get(CONSOLE_CLIENT_ID)) === undefined) {
    try {
      await clients.create({ clientId: CONSOLE_CLIENT_ID, ...wanted });
      return;
    } catch (error) {
      if ((await clients.get(CONSOLE_CLIENT_ID)) === undefined) throw error;
    }
  }
  await clients.update(CONSOLE_CLIENT_ID, wanted);
}
