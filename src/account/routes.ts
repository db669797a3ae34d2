import type { BrowserModules } from '../browser-app/modules.ts';
import { BROWSER_APP_CSP, serveBrowserApp, type BrowserApp } from '../browser-app/serve.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/account-client.ts';
import type { ClientRepository } from '../clients/repository.ts';
import type { Logger } from '../observability/logger.ts';
import { accountReferrer } from './referrer.ts';

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
  /** The operator's brand name (GATEHOUSE_BRAND_NAME), in the page's title like the hosted pages'. */
  readonly brandName?: string;
  /** Where its modules are read and compiled (the process's by default). */
  readonly modules?: BrowserModules;
  /** The clients, for the "Back to <app>" of `?referrer=<client id>&referrer_uri=<its redirect URI>` (referrer.ts). */
  readonly clients: Pick<ClientRepository, 'get'>;
  /** Where a store outage that cost the page its "Back to <app>" is logged (warn). */
  readonly logger?: Pick<Logger, 'warn'> | undefined;
}

/**
 * The account page: one shell (what the page needs as data attributes, no inline script) and
 * its assets — browser modules, stylesheet, locale files. The page signs in like any public
 * client and reaches the account API with its own tokens. Sent from an application
 * (keycloak-js's `createAccountUrl()`), the shell carries that application's name and checked
 * URI for the page's "Back to <app>" link.
 */
export function accountPage(deps: AccountPageDeps): BrowserApp {
  const { authorization, token, endSession, api, webauthn } = deps.endpoints;
  const brand = deps.brandName ?? 'Gatehouse';
  return serveBrowserApp({
    ...deps,
    webDir: deps.webDir ?? new URL('./web/', import.meta.url),
    client: { id: ACCOUNT_CLIENT_ID, authorization, token, endSession },
    shell: {
      title: `Account · ${brand}`,
      stylesheet: 'account.css',
      scripts: [webauthn],
      noscript: 'The account page needs JavaScript.',
      data: { api, brand },
      requestData: async (ctx): Promise<Record<string, string>> => {
        const referrer = await accountReferrer(deps.clients, ctx.query, deps.logger);
        return referrer === undefined ? {} : { referrer: referrer.clientId, 'referrer-name': referrer.name, 'referrer-uri': referrer.uri };
      },
    },
  });
}
