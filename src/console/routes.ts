import type { BrowserModules } from '../browser-app/modules.ts';
import { BROWSER_APP_CSP, serveBrowserApp, type BrowserApp } from '../browser-app/serve.ts';
import { CONSOLE_CLIENT_ID } from '../clients/console-client.ts';
import { REQUIRED_ACTIONS } from '../accounts/required-actions.ts';

/** The console's own policy: its scripts and styles from this origin, fetches to this origin only. */
export const CONSOLE_CSP = BROWSER_APP_CSP;

export interface ConsoleRoutesDeps {
  /** The console's path (routes table). */
  readonly path: string;
  readonly issuer: string;
  /** Absolute paths of the endpoints the console uses. */
  readonly endpoints: { readonly authorization: string; readonly token: string; readonly revocation: string; readonly endSession: string; readonly admin: string };
  /** GATEHOUSE_CONSOLE_IDLE_TIMEOUT: the console signs out after this many seconds without activity. */
  readonly idleTimeoutSeconds?: number;
  /** The admin API's identifier (the `resource` the console asks tokens for). */
  readonly adminAudience: string;
  /** Where the browser modules are: compiled .js next to this file in dist/, .ts sources in src/. */
  readonly webDir?: string;
  /** Where its modules are read and compiled (the process's by default). */
  readonly modules?: BrowserModules;
}

/**
 * The admin console: one page (the app's shell, with the endpoints it needs as data attributes,
 * no inline script) and its assets — browser modules, stylesheet, locale files.
 */
export function consoleRoutes(deps: ConsoleRoutesDeps): BrowserApp {
  const { authorization, token, endSession, revocation, admin } = deps.endpoints;
  return serveBrowserApp({
    ...deps,
    webDir: deps.webDir ?? new URL('./web/', import.meta.url),
    client: { id: CONSOLE_CLIENT_ID, authorization, token, endSession },
    shell: {
      title: 'Gatehouse console',
      stylesheet: 'console.css',
      noscript: 'The Gatehouse console needs JavaScript.',
      // The required actions the user page offers, in the order the sign-in asks for them: from their one definition (browser modules cannot import it).
      data: { revocation, idle: String(deps.idleTimeoutSeconds ?? 900), admin, resource: deps.adminAudience, 'required-actions': REQUIRED_ACTIONS.join(' ') },
    },
  });
}
