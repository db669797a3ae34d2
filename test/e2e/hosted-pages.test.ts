import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { instanceForSuite } from '../helpers/e2e.ts';
import { launchChromium, noCspViolationsAfterEach, screenshot, seriousViolations } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';

const PASSWORD = 'a long enough password';

describe('hosted pages in headless Chromium (code + PKCE, SSO, form_post, logout, device flow)', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  const pages = instanceForSuite('e2e_pages', { settings: { GATEHOUSE_BRAND_NAME: 'Acme Sign-in', GATEHOUSE_SUPPORT_URL: 'https://help.acme.example/sso' } });
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];
  let appA: oidc.Configuration;
  let appB: oidc.Configuration;
  let tv: oidc.Configuration;

  async function register(name: string, firstParty: boolean, extra: Record<string, unknown> = {}) {
    const { client, secret } = await gatehouse.services.clients.create({
      displayName: name,
      firstParty,
      metadata: {
        redirect_uris: [`${rp.origin}/cb/${client_path(name)}`],
        post_logout_redirect_uris: [`${rp.origin}/bye`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        client_uri: 'https://expenses.example.com',
        policy_uri: 'https://expenses.example.com/privacy',
        tos_uri: 'https://expenses.example.com/terms',
        ...extra,
      },
    });
    return oidc.discovery(new URL(issuer), client.clientId, secret === undefined ? undefined : { client_secret: secret }, secret === undefined ? oidc.None() : undefined, {
      execute: [oidc.allowInsecureRequests],
    });
  }
  const client_path = (name: string) => name.toLowerCase().replace(/\W+/g, '-');

  async function authorizationUrl(config: oidc.Configuration, name: string, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${rp.origin}/cb/${client_path(name)}`,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    return { url: url.toString(), verifier, state };
  }

  async function expectAccessible(name: string) {
    await screenshot(page, name);
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${JSON.stringify(violations)}`).to.deep.equal([]);
  }

  before(async () => {
    await rp.start();
    ({ gatehouse, deploy: { issuer } } = pages);
    await gatehouse.services.accounts.createUser({ username: 'alice', email: 'alice@example.com', password: PASSWORD });
    appA = await register('Expense Tracker', false);
    appB = await register('Intranet', true);
    tv = await register('Living Room TV', true, {
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1024, height: 760 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    await rp.close();
  });

  noCspViolationsAfterEach(() => cspViolations);

  it('shows the sign-in page in all four languages, accessible on desktop and mobile', async () => {
    for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
      const { url } = await authorizationUrl(appA, 'Expense Tracker', { ui_locales: locale });
      await page.goto(url);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(`sign-in-${locale}`);
    }
    const mobile = await context.newPage();
    await mobile.setViewportSize({ width: 375, height: 740 });
    await mobile.goto((await authorizationUrl(appA, 'Expense Tracker')).url);
    await screenshot(mobile, 'sign-in-en-mobile');
    await mobile.close();
  });

  it('signs in, consents and returns a code that openid-client exchanges for tokens; a second app gets SSO without a password', async () => {
    const a = await authorizationUrl(appA, 'Expense Tracker');
    await page.goto(a.url);
    await page.fill('#username', 'nobody');
    await page.fill('#password', 'wrong');
    await page.click('button.primary');
    await page.waitForSelector('[role=alert]');
    await expectAccessible('sign-in-failed');

    await page.fill('#username', 'alice');
    await page.fill('#password', PASSWORD);
    await page.check('#rememberMe');
    await page.click('button.primary');
    await page.waitForURL(/\/interaction\//);
    expect(await page.textContent('h1')).to.contain('Allow access');
    expect(await page.textContent('main')).to.contain('See your email address');
    await expectAccessible('consent');
    await page.click('button.primary');
    await page.waitForURL(`${rp.origin}/cb/**`);

    const tokens = await oidc.authorizationCodeGrant(appA, new URL(page.url()), { pkceCodeVerifier: a.verifier, expectedState: a.state });
    expect(tokens.claims()?.email).to.equal('alice@example.com');
    expect(tokens.access_token).to.be.a('string');

    const interactionPages: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes('/interaction/')) interactionPages.push(request.url());
    };
    page.on('request', onRequest);
    const b = await authorizationUrl(appB, 'Intranet');
    await page.goto(b.url);
    await page.waitForURL(`${rp.origin}/cb/**`);
    page.off('request', onRequest);
    expect(interactionPages, 'no sign-in or consent page for the second app').to.deep.equal([]);
    const tokensB = await oidc.authorizationCodeGrant(appB, new URL(page.url()), { pkceCodeVerifier: b.verifier, expectedState: b.state });
    expect(tokensB.claims()?.sub).to.equal(tokens.claims()?.sub);

    // RP-initiated logout from app A ends the one session both apps share. Named by client_id
    // (no id_token_hint), Gatehouse asks first; with a hint of this session it would not
    // (test/e2e/keycloak-js.test.ts).
    const endSession = oidc.buildEndSessionUrl(appA, { client_id: appA.clientMetadata().client_id, post_logout_redirect_uri: `${rp.origin}/bye`, state: 'bye1' });
    expect(endSession.searchParams.has('id_token_hint')).to.equal(false);
    await page.goto(endSession.toString());
    expect(await page.textContent('main')).to.contain('Expense Tracker');
    await expectAccessible('logout-confirm');
    await page.click('button[name=logout]');
    await page.waitForURL(`${rp.origin}/bye?state=bye1`);

    await page.goto(`${issuer}/session/end`); // no session left: the library's auto-submitting page, then the signed-out page
    await page.waitForURL(`${issuer}/session/end/success**`);
    expect(await page.textContent('h1')).to.contain('signed out');
    await expectAccessible('signed-out');

    for (const [config, name] of [[appA, 'Expense Tracker'], [appB, 'Intranet']] as const) {
      await page.goto((await authorizationUrl(config, name)).url);
      expect(await page.locator('#password').count(), `${name} asks for the password again`).to.equal(1);
    }
  });

  it("on a phone in each language: the app's name stands out in the sign-in and consent leads, and the 'keep me signed in' box sits on its label's first line", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const other = await phone.newPage();
    try {
      for (const locale of ['ru', 'zh-CN', 'ko', 'en']) {
        await other.goto((await authorizationUrl(appA, 'Expense Tracker', { ui_locales: locale, prompt: 'login consent' })).url);
        await other.waitForSelector('#rememberMe');
        expect(await other.getAttribute('html', 'lang')).to.equal(locale);
        // The name in the lead's sentence, set apart (Auth0 and Keycloak name the app in bold): the lead itself is muted.
        expect(await other.locator('main .lead strong').allTextContents(), `${locale}: sign-in lead`).to.deep.equal(['Expense Tracker']);
        // A label of two lines (Russian) starts beside its box: the box's centre on the first line's, not between the two lines.
        const check = await other.locator('.check').evaluate((row) => {
          const box = row.querySelector('input')!.getBoundingClientRect();
          const range = document.createRange();
          range.selectNodeContents(row.querySelector('label')!);
          const lines = [...range.getClientRects()];
          return { box: box.top + box.height / 2, firstLine: lines[0]!.top + lines[0]!.height / 2, lines: new Set(lines.map((line) => Math.round(line.top))).size };
        });
        if (locale === 'ru') expect(check.lines, 'the Russian label takes two lines at 390 px').to.equal(2);
        expect(Math.abs(check.box - check.firstLine), `${locale}: the box on the label's first line (${JSON.stringify(check)})`).to.be.below(1.5);
        await screenshot(other, `sign-in-390-${locale}`);
        await other.fill('#username', 'alice');
        await other.fill('#password', PASSWORD);
        await other.click('button.primary');
        await other.waitForSelector('form[action$="/confirm"]');
        expect(await other.locator('main .lead strong').allTextContents(), `${locale}: consent lead`).to.deep.equal(['Expense Tracker']);
        expect(await seriousViolations(other), `${locale}: consent`).to.deep.equal([]);
        await screenshot(other, `consent-390-${locale}`);
        await other.click('form[action$="/abort"] button');
        await other.waitForURL(`${rp.origin}/cb/**`);
      }
    } finally {
      await phone.close();
    }
  });

  it('completes a response_mode=form_post sign-in under the CSP', async () => {
    // alice's consent to this app is remembered across sessions (the last test consented), so the
    // consent page is asked for: its form then ends in the form_post page.
    const a = await authorizationUrl(appA, 'Expense Tracker', { response_mode: 'form_post', prompt: 'consent' });
    await page.goto(a.url);
    await page.fill('#username', 'alice@example.com');
    await page.fill('#password', PASSWORD);
    await page.click('button.primary');
    await page.waitForURL(/\/interaction\//);
    expect(await page.locator('form[action$="/confirm"]').count()).to.equal(1);
    await Promise.all([page.waitForURL(`${rp.origin}/cb/**`), page.click('button.primary')]);
    const posted = rp.last('/cb/expense-tracker')!;
    expect(posted.method).to.equal('POST');
    const request = new Request(posted.url, { method: 'POST', body: posted.body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const tokens = await oidc.authorizationCodeGrant(appA, request, { pkceCodeVerifier: a.verifier, expectedState: a.state });
    expect(tokens.claims()?.email).to.equal('alice@example.com');
  });

  it('connects a device with a user code: input, confirmation and success pages', async () => {
    const device = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    await page.goto(`${issuer}/device`);
    await expectAccessible('device-input');
    await page.fill('#user_code', 'BCDF-GHJK');
    await page.click('button.primary');
    await page.waitForSelector('[role=alert]');
    await expectAccessible('device-input-wrong-code');
    await page.fill('#user_code', device.user_code);
    await page.click('button.primary');
    await page.waitForSelector('.user-code');
    await expectAccessible('device-confirm');
    await page.click('button[name=confirm]');
    await page.waitForSelector('#page-title');
    expect(await page.textContent('h1')).to.contain('connected');
    await expectAccessible('device-success');
    const tokens = await oidc.pollDeviceAuthorizationGrant(tv, { ...device, interval: 0 });
    expect(tokens.claims()?.sub).to.be.a('string');
  });

  it('renders provider errors on a friendly page without a support reference (only server failures carry one)', async () => {
    const response = await page.goto(`${issuer}/auth?client_id=not-registered&response_type=code&scope=openid&redirect_uri=https://evil.example/cb`);
    expect(response?.status()).to.equal(400);
    expect(await page.locator('.reference').count()).to.equal(0);
    await expectAccessible('error');
  });
});
