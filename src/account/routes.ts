import { fileURLToPath } from 'node:url';
import type { Middleware } from 'koa';
import { BROWSER_APP_CSP, serveBrowserApp } from '../browser-app/serve.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';

/** The account page's policy: scripts and styles from this origin, fetches to this origin, QR codes as data: images. */
export const ACCOUNT_CSP = BROWSER_APP_CSP;

export const ACCOUNT_LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

export interface AccountPageDeps {
  /** The account page's path (routes table). */
  readonly path: string;
  readonly issuer: string;
  /** Absolute paths of what the page uses. */
  readonly endpoints: { readonly authorization: string; readonly token: string; readonly endSession: string; readonly api: string; readonly webauthn: string };
  /** Where the browser modules are: compiled .js next to this file in dist/, .ts sources in src/. */
  readonly webDir?: string;
}

/**
 * The account page: one shell (what the page needs as data attributes, no inline script) and
 * its assets — browser modules, stylesheet, locale files. The page signs in like any public
 * client and reaches the account API with its own tokens.
 */
export function accountPage(deps: AccountPageDeps): Middleware {
  const origin = new URL(deps.issuer).origin;
  return serveBrowserApp({
    path: deps.path,
    webDir: deps.webDir ?? fileURLToPath(new URL('./web/', import.meta.url)),
    csp: ACCOUNT_CSP,
    shell: {
      title: 'Account',
      stylesheet: 'account.css',
      scripts: [deps.endpoints.webauthn],
      noscript: 'The account page needs JavaScript.',
      data: {
        'client-id': ACCOUNT_CLIENT_ID,
        account: `${origin}${deps.path}/`,
        authorize: deps.endpoints.authorization,
        token: deps.endpoints.token,
        'end-session': deps.endpoints.endSession,
        api: deps.endpoints.api,
      },
    },
  });
}
