import { ensureConsoleClient } from '../clients/console-client.ts';
import type { BrowserApp } from '../browser-app/serve.ts';
import { consoleRoutes } from '../console/routes.ts';
import { endpointPath } from '../routes/table.ts';
import type { Wiring } from './wiring.ts';

/** The console's own public client (redirect URI = the console, tokens for the admin API). */
export async function prepareConsole({ config, core, issuerOrigin }: Wiring): Promise<void> {
  await ensureConsoleClient({ clients: core.services.clients, adminAudience: core.services.adminAudience, consoleUrl: `${issuerOrigin}${config.routes.console}/` });
}

/** The admin console's shell and assets; it reaches Gatehouse only through the admin API. */
export function composeConsole({ config, core, options }: Wiring): BrowserApp {
  return consoleRoutes({
    ...(options.browserModules === undefined ? {} : { modules: options.browserModules }),
    path: config.routes.console,
    issuer: config.issuer,
    adminAudience: core.services.adminAudience,
    idleTimeoutSeconds: config.console.idleTimeoutSeconds,
    endpoints: {
      authorization: endpointPath(config.routes, 'authorization'),
      token: endpointPath(config.routes, 'token'),
      revocation: endpointPath(config.routes, 'revocation'),
      endSession: endpointPath(config.routes, 'end_session'),
      admin: config.routes.admin,
    },
  });
}
