import { ensureBuiltInClient } from './built-in-client.ts';
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

/** Creates the console's client at startup, or puts its redirect URIs, grants and API access back to what the console needs. */
export async function ensureConsoleClient({ clients, adminAudience, consoleUrl }: ConsoleClientDeps): Promise<void> {
  await ensureBuiltInClient(clients, {
    clientId: CONSOLE_CLIENT_ID,
    displayName: 'Gatehouse admin console',
    url: consoleUrl,
    admin: true,
    allowedApis: [adminAudience],
    metadata: { default_api: adminAudience },
  });
}
