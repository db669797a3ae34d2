import * as oidc from 'openid-client';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { freshTab, launchChromium, virtualAuthenticator, watchedPage, type VirtualAuthenticator, type WatchedPage } from './browser.ts';
import type { RelyingPartyServer } from './relying-party.ts';

/** The checks a code flow's callback is verified against. */
export interface FlowChecks {
  readonly verifier: string;
  readonly state: string;
}

/**
 * A confidential web app of the deployment (client_secret_basic, code flow) redirecting to the
 * relying party's `/cb`, discovered with openid-client.
 */
export async function webApp(
  gatehouse: RunningGatehouse,
  issuer: string,
  rp: RelyingPartyServer,
  { displayName = 'Ledger', firstParty = true, scope, postLogoutRedirectUris }: { displayName?: string; firstParty?: boolean; scope?: string; postLogoutRedirectUris?: string[] } = {},
): Promise<oidc.Configuration> {
  const { client, secret } = await gatehouse.services.clients.create({
    displayName,
    firstParty,
    metadata: {
      redirect_uris: [`${rp.origin}/cb`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(scope === undefined ? {} : { scope }),
      ...(postLogoutRedirectUris === undefined ? {} : { post_logout_redirect_uris: postLogoutRedirectUris }),
    },
  });
  return oidc.discovery(new URL(issuer), client.clientId, { client_secret: secret! }, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** An authorization request with PKCE and state to the relying party's `/cb`, and its checks. */
export async function authorizationRequest(app: oidc.Configuration, rp: RelyingPartyServer, parameters: Record<string, string> = {}): Promise<{ url: string; checks: FlowChecks }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: `${rp.origin}/cb`,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...parameters,
  });
  return { url: url.toString(), checks: { verifier, state } };
}

/** The code flow driven in a browser page: `start` opens the hosted pages, `tokens` finishes at the app's callback. */
export function codeFlow(page: Page, app: oidc.Configuration, rp: RelyingPartyServer) {
  /** Waits for the redirect back to the app and redeems the code; the token endpoint's answer. */
  async function grant(checks: FlowChecks) {
    await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/cb`));
    return oidc.authorizationCodeGrant(app, new URL(page.url()), { pkceCodeVerifier: checks.verifier, expectedState: checks.state });
  }
  return {
    /** Opens a new authorization request (with further parameters: ui_locales, scope…) in the page. */
    async start(parameters: Record<string, string> = {}): Promise<FlowChecks> {
      const { url, checks } = await authorizationRequest(app, rp, parameters);
      await page.goto(url);
      return checks;
    },
    grant,
    /** Waits for the redirect back to the app and redeems the code; the ID token's claims. */
    async tokens(checks: FlowChecks) {
      return (await grant(checks)).claims()!;
    },
  };
}

/** Signs in with the password on the sign-in page: what comes next is the second factor, or the app. */
export async function submitPassword(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button.primary');
}

export type CodeFlow = ReturnType<typeof codeFlow>;

export interface PasskeyBrowser extends WatchedPage {
  readonly browser: Browser;
  readonly authenticator: VirtualAuthenticator;
  readonly flow: CodeFlow;
}

/** Chromium with one watched page (watchedPage()) holding a virtual passkey authenticator, and the code flow of `app` on it. */
export async function passkeyBrowser(app: oidc.Configuration, rp: RelyingPartyServer): Promise<PasskeyBrowser> {
  const browser = await launchChromium();
  const watched = await watchedPage(browser);
  const authenticator = await virtualAuthenticator(watched.context, watched.page);
  return { ...watched, browser, authenticator, flow: codeFlow(watched.page, app, rp) };
}

/** freshTab() (a browser as the servers see a new one; `previous` closed), 900×900 unless told, and the code flow of `app` in it. */
export async function freshFlowPage(browser: Browser, previous: BrowserContext | undefined, app: oidc.Configuration, rp: RelyingPartyServer, options: BrowserContextOptions = {}) {
  const { context, page } = await freshTab(browser, previous, { viewport: { width: 900, height: 900 }, ...options });
  return { context, page, flow: codeFlow(page, app, rp) };
}
