import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import * as oidc from 'openid-client';
import { authorizationRequest, deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { darkSchemeViolations, launchChromium, resizeViewport, screenshot, seriousViolations } from './browser.ts';

const REALM = 'acme';
const ORDERS_API = 'https://orders.acme.test';
/** keycloak-js exactly as npm ships it (an ES module without imports). */
const KEYCLOAK_JS = readFileSync(createRequire(import.meta.url).resolve('keycloak-js'), 'utf8');

/** The application: a page that loads keycloak-js and knows only the base URL, the realm and the client id. */
function appPage(gatehouseUrl: string, clientId: string, initOptions: Record<string, string> = {}): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><p id="status">loading</p>
<script type="module">
import Keycloak from '/keycloak.js';
const keycloak = new Keycloak({ url: ${JSON.stringify(gatehouseUrl)}, realm: ${JSON.stringify(REALM)}, clientId: ${JSON.stringify(clientId)} });
window.keycloak = keycloak;
window.initResult = keycloak.init({ onLoad: 'login-required', pkceMethod: 'S256', ...${JSON.stringify(initOptions)} }).then(
  (authenticated) => { document.getElementById('status').textContent = authenticated ? 'signed in' : 'anonymous'; return { authenticated }; },
  (error) => ({ error: String(error && (error.message || error.error || error)) }),
);
</script></body></html>`;
}

/** Serves the app page, a signed-out page and keycloak.js from their own origin (another port). */
async function startApp(gatehouseUrl: string, clientId: string, initOptions: Record<string, string> = {}): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    if (path === '/keycloak.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(KEYCLOAK_JS);
    } else if (path === '/app/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(appPage(gatehouseUrl, clientId, initOptions));
    } else if (path === '/signed-out') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bye</title><p id="status">signed out</p>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function signInOnHostedPage(page: Page, username: string): Promise<void> {
  await page.waitForSelector('input[name="username"]');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
}

describe('keycloak-js, unmodified, against the Keycloak layout (headless Chromium)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let user: { id: string; username: string };
  let browser: Browser;
  let app: { url: string; server: Server };
  const clientId = 'acme-spa';

  before(async () => {
    deploy = await deployment('keycloak_js', { settings: { GATEHOUSE_KEYCLOAK_REALM: REALM } });
    gatehouse = await deploy.start();
    app = await startApp(deploy.issuer, clientId);
    // keycloak-js reads the access token: the SPA's sign-ins get a JWT for an API with Keycloak-shaped claims.
    await gatehouse.services.apis.create({ identifier: ORDERS_API, scopes: ['orders'], tokenClaims: 'keycloak' });
    user = await gatehouse.services.accounts.createUser({
      username: 'kc-user',
      password: PASSWORD,
      email: 'kc-user@acme.test',
      emailVerified: true,
      givenName: 'Kay',
      familyName: 'Cloak',
      roles: ['editor', 'orders-api:orders.read'],
      groups: ['/staff'],
    });
    await gatehouse.services.clients.create({
      clientId,
      displayName: 'ACME SPA',
      firstParty: true,
      webOrigins: [app.url],
      allowedApis: [ORDERS_API],
      metadata: {
        default_api: ORDERS_API,
        login_uses_default_api: true,
        // As the Keycloak import sets it: Keycloak's claims and default scopes for this client.
        token_claims: 'keycloak',
        redirect_uris: [`${app.url}/app/`],
        post_logout_redirect_uris: [`${app.url}/signed-out`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email',
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => app.server.close(resolve));
    await gatehouse.close();
    await deploy.drop();
  });

  it('serves discovery at /realms/acme with Keycloak’s endpoint paths', async () => {
    const issuer = `${deploy.issuer}/realms/${REALM}`;
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const oidc = `${issuer}/protocol/openid-connect`;
    expect(discovery).to.include({
      issuer,
      authorization_endpoint: `${oidc}/auth`,
      token_endpoint: `${oidc}/token`,
      userinfo_endpoint: `${oidc}/userinfo`,
      jwks_uri: `${oidc}/certs`,
      end_session_endpoint: `${oidc}/logout`,
      introspection_endpoint: `${oidc}/token/introspect`,
      revocation_endpoint: `${oidc}/revoke`,
      device_authorization_endpoint: `${oidc}/auth/device`,
    });
    // keycloak-js's session-status frames: frameable by the app, answering at once.
    for (const path of ['3p-cookies/step1.html', '3p-cookies/step2.html', 'login-status-iframe.html']) {
      const frame = await fetch(`${oidc}/${path}`);
      expect(frame.status, path).to.equal(200);
      expect(frame.headers.get('x-frame-options'), path).to.equal(null);
      expect(frame.headers.get('content-security-policy'), path).to.include('frame-ancestors *');
    }
    expect(await (await fetch(`${oidc}/3p-cookies/step1.js`)).text()).to.include("postMessage('unsupported'");
    expect((await fetch(`${oidc}/login-status-iframe.html/init?client_id=${clientId}`)).status).to.equal(204);
    // Gatehouse's own surfaces stay where they are.
    expect((await fetch(`${deploy.issuer}/healthz`)).status).to.equal(200);
    expect((await fetch(`${deploy.issuer}/admin/api/v1/openapi.json`)).status).to.equal(200);
    expect((await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).status).to.equal(404);
    // The account page where Keycloak has its Account Console, its client redirecting back there.
    const account = await fetch(`${issuer}/account/`);
    expect(account.status).to.equal(200);
    const shell = await account.text();
    expect(shell).to.include('data-client-id="gatehouse-account"').and.include(`data-api="/realms/${REALM}/account/api/v1"`);
    expect((await fetch(`${issuer}/account/assets/app.js`)).status).to.equal(200);
    expect((await fetch(`${issuer}/account/api/v1/profile`)).status).to.equal(401);
    expect((await gatehouse.services.clients.get('gatehouse-account'))!.metadata.redirect_uris).to.deep.equal([`${issuer}/account/`]);
  });

  it('init(login-required, S256) → hosted sign-in → parsed token → updateToken() refreshes → logout() ends the session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') warnings.push(message.text());
    });
    try {
      await page.goto(`${app.url}/app/`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await screenshot(page, 'keycloak-js-sign-in');
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      const init = await page.evaluate(() => (globalThis as unknown as { initResult: Promise<unknown> }).initResult);
      expect(init, JSON.stringify(warnings)).to.deep.equal({ authenticated: true });

      const parsed = await page.evaluate(() => {
        const kc = (globalThis as unknown as { keycloak: { tokenParsed: Record<string, unknown>; idTokenParsed: Record<string, unknown>; subject: string; token: string } }).keycloak;
        return { token: kc.tokenParsed, id: kc.idTokenParsed, subject: kc.subject, raw: kc.token };
      });
      expect(parsed.subject).to.equal(user.id);
      expect(parsed.token).to.include({ sub: user.id, iss: `${deploy.issuer}/realms/${REALM}`, aud: ORDERS_API, typ: 'Bearer', azp: clientId, preferred_username: 'kc-user', email: 'kc-user@acme.test', given_name: 'Kay' });
      expect(parsed.token.realm_access).to.deep.equal({ roles: ['editor'] });
      expect(parsed.token.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
      expect(parsed.token.sid).to.be.a('string').and.equal(parsed.id.sid);
      expect(parsed.id).to.include({ sub: user.id });

      // loadUserInfo() presents that access token (audience: the API) at userinfo, which Keycloak accepts.
      const userInfo = await page.evaluate(async () => {
        const kc = (globalThis as unknown as { keycloak: { loadUserInfo(): Promise<Record<string, unknown>> } }).keycloak;
        try {
          return { info: await kc.loadUserInfo() };
        } catch (error) {
          return { error: String(error) };
        }
      });
      // keycloak-js asked for `openid` alone; like Keycloak's default client scopes, profile and email come along.
      expect(userInfo.info, JSON.stringify({ userInfo, warnings })).to.include({
        sub: user.id,
        preferred_username: 'kc-user',
        given_name: 'Kay',
        family_name: 'Cloak',
        email: 'kc-user@acme.test',
        email_verified: true,
      });

      // loadUserProfile() reads Keycloak's Account REST API (GET /realms/acme/account, CORS from the app's origin).
      const profile = await page.evaluate(async () => {
        const kc = (globalThis as unknown as { keycloak: { loadUserProfile(): Promise<Record<string, unknown>> } }).keycloak;
        try {
          return { profile: await kc.loadUserProfile() };
        } catch (error) {
          return { error: String(error) };
        }
      });
      expect(profile, JSON.stringify({ profile, warnings })).to.deep.equal({
        profile: { id: user.id, username: 'kc-user', email: 'kc-user@acme.test', emailVerified: true, firstName: 'Kay', lastName: 'Cloak', attributes: {} },
      });
      const accountUrl = `${deploy.issuer}/realms/${REALM}/account`;
      const asApp = { accept: 'application/json', origin: app.url };
      const direct = await fetch(accountUrl, { headers: { ...asApp, authorization: `Bearer ${parsed.raw}` } });
      expect(direct.status).to.equal(200);
      expect(direct.headers.get('access-control-allow-origin')).to.equal(app.url);
      expect(direct.headers.get('cache-control')).to.equal('no-store');
      await direct.arrayBuffer();
      // Another origin may not read it; a missing or forged token is a JSON 401, whatever the Accept header.
      const elsewhere = await fetch(accountUrl, { headers: { ...asApp, origin: 'https://evil.example', authorization: `Bearer ${parsed.raw}` } });
      expect(elsewhere.status).to.equal(200);
      expect(elsewhere.headers.get('access-control-allow-origin')).to.equal(null);
      await elsewhere.arrayBuffer();
      for (const headers of [asApp, { ...asApp, authorization: 'Bearer not-a-token' }, { accept: 'text/html', authorization: `Bearer ${parsed.raw.slice(0, -4)}AAAA` }]) {
        const refused = await fetch(accountUrl, { headers });
        expect(refused.status, JSON.stringify(headers)).to.equal(401);
        expect(refused.headers.get('www-authenticate'), JSON.stringify(headers)).to.match(/^Bearer error="invalid_token"/);
        expect(await refused.json(), JSON.stringify(headers)).to.include({ error: 'invalid_token' });
      }
      // A browser navigating there still gets the account page.
      const navigated = await fetch(accountUrl, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(navigated.status).to.not.equal(401);
      await navigated.arrayBuffer();

      const refreshed = await page.evaluate(async () => {
        const kc = (globalThis as unknown as { keycloak: { token: string; refreshToken: string; updateToken(seconds: number): Promise<boolean> } }).keycloak;
        const before = { token: kc.token, refresh: kc.refreshToken };
        const result = await kc.updateToken(-1);
        return { result, tokenChanged: kc.token !== before.token, refreshChanged: kc.refreshToken !== before.refresh };
      });
      expect(refreshed).to.deep.equal({ result: true, tokenChanged: true, refreshChanged: true });

      // keycloak-js sends id_token_hint: as Keycloak does, Gatehouse signs out without asking.
      const logoutRequest = page.waitForRequest((request) => new URL(request.url()).pathname.endsWith('/protocol/openid-connect/logout'));
      await page.evaluate(() => {
        void (globalThis as unknown as { keycloak: { logout(options: { redirectUri: string }): Promise<void> } }).keycloak.logout({ redirectUri: `${(globalThis as unknown as { location: { origin: string } }).location.origin}/signed-out` });
      });
      expect(new URL((await logoutRequest).url()).searchParams.has('id_token_hint')).to.equal(true);
      // Nothing is clicked: the page would wait here if it asked.
      await page.waitForURL(`${app.url}/signed-out`);

      // The token's session ended with the logout: the profile is refused.
      const afterLogout = await fetch(accountUrl, { headers: { ...asApp, authorization: `Bearer ${parsed.raw}` } });
      expect(afterLogout.status).to.equal(401);
      expect(await afterLogout.json()).to.include({ error: 'invalid_token' });

      // The session is gone: the app asks for a sign-in again.
      await page.goto(`${app.url}/app/`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      expect(await page.locator('input[name="password"]').count()).to.equal(1);
    } finally {
      await context.close();
    }
  });

  it("init({ scope: 'offline_access' }) gets an offline token as from Keycloak (no consent page, no prompt=consent): typ Offline, refreshes after logout", async () => {
    const offlineId = 'acme-offline';
    const offlineApp = await startApp(deploy.issuer, offlineId, { scope: 'offline_access' });
    await gatehouse.services.clients.create({
      clientId: offlineId,
      displayName: 'ACME offline SPA',
      firstParty: true,
      webOrigins: [offlineApp.url],
      allowedApis: [ORDERS_API],
      metadata: {
        // keycloak-js decodes the access token too: a JWT for the API, as in the test above.
        default_api: ORDERS_API,
        login_uses_default_api: true,
        token_claims: 'keycloak',
        redirect_uris: [`${offlineApp.url}/app/`],
        post_logout_redirect_uris: [`${offlineApp.url}/signed-out`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'openid profile email offline_access',
      },
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const authorization = page.waitForRequest((request) => new URL(request.url()).pathname.endsWith('/protocol/openid-connect/auth'));
      await page.goto(`${offlineApp.url}/app/`);
      const asked = new URL((await authorization).url()).searchParams;
      expect(asked.get('scope')?.split(' ')).to.include('offline_access');
      expect(asked.get('prompt'), 'keycloak-js does not send prompt=consent').to.equal(null);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${offlineApp.url}/app/`));
      expect(await page.evaluate(() => (globalThis as unknown as { initResult: Promise<unknown> }).initResult)).to.deep.equal({ authenticated: true });
      const held = await page.evaluate(() => {
        const kc = (globalThis as unknown as { keycloak: { refreshToken: string; refreshTokenParsed: Record<string, unknown> } }).keycloak;
        return { refreshToken: kc.refreshToken, parsed: kc.refreshTokenParsed };
      });
      expect(held.parsed, "Keycloak's offline token type").to.include({ typ: 'Offline', azp: offlineId });

      const logoutRequest = page.waitForRequest((request) => new URL(request.url()).pathname.endsWith('/protocol/openid-connect/logout'));
      await page.evaluate(() => {
        void (globalThis as unknown as { keycloak: { logout(options: { redirectUri: string }): Promise<void> } }).keycloak.logout({ redirectUri: `${(globalThis as unknown as { location: { origin: string } }).location.origin}/signed-out` });
      });
      await logoutRequest;
      await page.waitForURL(`${offlineApp.url}/signed-out`);
      // The session is over; the offline token is not (as keycloak-js's updateToken() would send it).
      const refreshed = await fetch(`${deploy.issuer}/realms/${REALM}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: offlineApp.url },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: offlineId, refresh_token: held.refreshToken }),
      });
      const body = (await refreshed.json()) as Record<string, unknown>;
      expect(refreshed.status, JSON.stringify(body)).to.equal(200);
      // The response's scope is the API's (the access token's); the new refresh token is still an offline one.
      const [, payload] = String(body.refresh_token).split('.');
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).to.include({ typ: 'Offline' });
    } finally {
      await context.close();
      await new Promise((resolve) => offlineApp.server.close(resolve));
    }
  });

  it('createAccountUrl() / accountManagement(): the account page, signed in by the provider\'s session with no click, says "Back to ACME SPA" (four languages) through its sections, and the link leads back to the app', async function () {
    this.timeout(180_000);
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const back = page.getByTestId('referrer');
    const strings = (locale: string) => JSON.parse(readFileSync(new URL(`../../src/account/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
    try {
      await page.goto(`${app.url}/app/`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      expect(await page.evaluate(() => (globalThis as unknown as { initResult: Promise<unknown> }).initResult)).to.deep.equal({ authenticated: true });
      const accountUrl = await page.evaluate(() => (globalThis as unknown as { keycloak: { createAccountUrl(): string } }).keycloak.createAccountUrl());
      const query = new URLSearchParams({ referrer: clientId, referrer_uri: `${app.url}/app/` }).toString();
      expect(accountUrl).to.equal(`${deploy.issuer}/realms/${REALM}/account?${query}`);

      // accountManagement() goes there. The account page has no tokens of its own yet, but the provider's session is live:
      // it signs in with no click (prompt=none, answered at once, as Keycloak's account console is signed in by its SSO
      // session), back to the page's bare URL with a code — the link and the query stay.
      const prompts: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (request.isNavigationRequest() && url.searchParams.has('code_challenge')) prompts.push(url.searchParams.get('prompt') ?? '');
      });
      await page.evaluate(() => void (globalThis as unknown as { keycloak: { accountManagement(): Promise<void> } }).keycloak.accountManagement());
      await page.locator('nav a[aria-current="page"]').waitFor();
      await page.locator('main h1').waitFor();
      await back.waitFor();
      expect(prompts, 'one silent authorization request, no sign-in page and no click').to.deep.equal(['none']);
      expect(page.url()).to.equal(`${deploy.issuer}/realms/${REALM}/account/?${query}`);
      expect(await back.textContent()).to.equal('Back to ACME SPA');
      expect(await back.getAttribute('href')).to.equal(`${app.url}/app/`);
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, 'keycloak-js-account-back-link-signed-in');
      for (const [section, name] of [['#/security', 'Sign-in & security'], ['#/sessions', 'Devices'], ['#/apps', 'Apps'], ['#/profile', 'Profile']] as const) {
        await page.getByRole('link', { name, exact: true }).click();
        await page.waitForFunction((href) => document.querySelector('nav a[aria-current="page"]')?.getAttribute('href') === href, section);
        await page.locator('main h1').waitFor();
        expect(await back.textContent(), section).to.equal('Back to ACME SPA');
      }
      await page.reload();
      await page.locator('main h1').waitFor();
      expect(await back.textContent(), 'after a reload').to.equal('Back to ACME SPA');

      // In each language, at both widths, light and dark: said in it, axe-clean, on the screen.
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await page.selectOption('#language', locale);
        const said = strings(locale)['referrer.back']!.replace('{app}', 'ACME SPA');
        await back.filter({ hasText: said }).waitFor();
        await page.locator('main h1').waitFor();
        for (const width of [1280, 390]) {
          await resizeViewport(page, { width, height: 844 });
          const box = await back.boundingBox();
          expect(box!.x + box!.width, `${locale} at ${width} px`).to.be.at.most(width);
          expect(await page.evaluate(() => document.documentElement.scrollWidth), `${locale} at ${width} px`).to.be.at.most(width);
          // On a wide screen the header's language, name and sign-out stay at its end, also on a row of their own (ru at 1280 px wraps them); a phone stacks the header's rows from the start.
          if (width === 1280) {
            const end = await page.locator('header.bar').evaluate((header) => ({
              header: header.getBoundingClientRect().right - parseFloat(getComputedStyle(header).paddingRight),
              who: header.querySelector('.who')!.getBoundingClientRect().right,
            }));
            expect(end.who, `${locale} at ${width} px: ${JSON.stringify(end)}`).to.be.closeTo(end.header, 1);
          }
          expect(await seriousViolations(page), `${locale} at ${width} px`).to.deep.equal([]);
          await screenshot(page, `account-back-link-${locale}-${width}`);
          await page.emulateMedia({ colorScheme: 'dark' });
          expect(await darkSchemeViolations(page), `${locale} at ${width} px, dark`).to.deep.equal([]);
          await screenshot(page, `account-back-link-${locale}-${width}-dark`);
          await page.emulateMedia({ colorScheme: 'light' });
        }
      }

      // The link goes back to the app, still signed in (keycloak-js's init passes through the provider's session without a form).
      await back.click();
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      await page.locator('#status', { hasText: 'signed in' }).waitFor();

      // A URI the client did not register (or a javascript: one): the page, no link.
      for (const uri of [`${app.url}/elsewhere`, 'javascript:alert(1)']) {
        await page.goto(`${deploy.issuer}/realms/${REALM}/account?${new URLSearchParams({ referrer: clientId, referrer_uri: uri })}`);
        await page.locator('main h1').waitFor();
        expect(await back.count(), uri).to.equal(0);
      }
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('logout without id_token_hint (or with a hint of an earlier session) still asks before signing out', async function () {
    // Two whole keycloak-js sign-ins and two logouts: 73 s at load 30 (qa26), past mocha's 30 s with nothing stuck.
    this.timeout(120_000);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${app.url}/app/`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      await page.evaluate(() => (globalThis as unknown as { initResult: Promise<unknown> }).initResult);
      const staleHint = await page.evaluate(() => (globalThis as unknown as { keycloak: { idToken: string } }).keycloak.idToken);
      const logout = `${deploy.issuer}/realms/${REALM}/protocol/openid-connect/logout`;
      const signedOut = `${app.url}/signed-out`;

      await page.goto(`${logout}?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: signedOut })}`);
      await screenshot(page, 'keycloak-js-logout-without-hint');
      expect(await page.locator('button[name="logout"][value="yes"]').count()).to.equal(1);
      await page.click('button[name="logout"][value="yes"]');
      await page.waitForURL(signedOut);

      // Signed in again: the old ID token names the earlier session, so the question comes back.
      await page.goto(`${app.url}/app/`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      await page.evaluate(() => (globalThis as unknown as { initResult: Promise<unknown> }).initResult);
      await page.goto(`${logout}?${new URLSearchParams({ id_token_hint: staleHint, post_logout_redirect_uri: signedOut })}`);
      expect(await page.locator('button[name="logout"][value="yes"]').count()).to.equal(1);
      await page.click('button[name="logout"][value="yes"]');
      await page.waitForURL(signedOut);
    } finally {
      await context.close();
    }
  });

  it('without JavaScript, a hinted logout shows a Sign out button instead of going at once', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      // The hosted sign-in works without JavaScript; the code is redeemed here, as the app would.
      const config = await relyingParty(`${deploy.issuer}/realms/${REALM}`, clientId);
      const request = await authorizationRequest(config, `${app.url}/app/`, { scope: 'openid' });
      await page.goto(request.url.href);
      await signInOnHostedPage(page, user.username);
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/app/`));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), request.checks);
      const signedOut = `${app.url}/signed-out`;
      await page.goto(`${deploy.issuer}/realms/${REALM}/protocol/openid-connect/logout?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: signedOut })}`);
      await screenshot(page, 'keycloak-logout-hinted-no-javascript');
      expect(await page.locator('form[data-auto-submit] input[name="logout"][value="yes"]').count()).to.equal(1);
      await page.click('form[data-auto-submit] button[type="submit"]');
      await page.waitForURL(signedOut);
    } finally {
      await context.close();
    }
  });
});
