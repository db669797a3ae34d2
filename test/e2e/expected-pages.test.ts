// The pages people expect from a sign-in service (issue 13 item 7), in every language, in light
// and dark mode: each one screenshotted (test-artifacts/screenshots/expected-*.png) and audited
// with axe-core (no violations of any impact), under the page CSP (no inline script).
// One browser tab at a time serves the file (freshTab: a new context where a test needs a new browser; the
// colour scheme emulated on it, the language picked with the pages' own switcher), and the
// device pages are reached on one sign-in: the pages, audits and checks are each test's own.
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { instanceForSuite } from '../helpers/e2e.ts';
import { createViews } from '../../src/interactions/views.ts';
import { languageLinks } from '../../src/interactions/language.ts';
import { axeViolations, darkSchemeViolations, freshTab, launchChromium, screenshot } from './browser.ts';

const PASSWORD = 'a long enough password';
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
const REDIRECT = 'https://expenses.example.com/cb';
const views = createViews({
  directory: fileURLToPath(new URL('../../views', import.meta.url)),
  brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: 'https://help.acme.example/sso' },
});

describe('pages people expect (every locale, light and dark, axe-clean)', function () {
  this.timeout(300_000);
  const pages = instanceForSuite('e2e_expected', { settings: { GATEHOUSE_USER_CODE_FAILURE_LIMIT: '2', GATEHOUSE_SUPPORT_URL: 'https://help.acme.example/sso' } });
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let browser: Browser;
  let app: oidc.Configuration;
  let tv: oidc.Configuration;

  before(async () => {
    ({ gatehouse, deploy: { issuer } } = pages);
    await gatehouse.services.accounts.createUser({ username: 'alice', name: 'Alice Liddell', email: 'alice@example.com', password: PASSWORD });
    const { client, secret } = await gatehouse.services.clients.create({
      displayName: 'Expense Tracker',
      firstParty: false,
      metadata: {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        client_uri: 'https://expenses.example.com/',
      },
    });
    app = await oidc.discovery(new URL(issuer), client.clientId, { client_secret: secret! }, undefined, { execute: [oidc.allowInsecureRequests] });
    const device = await gatehouse.services.clients.create({
      displayName: 'Living Room TV',
      firstParty: true,
      metadata: { redirect_uris: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], token_endpoint_auth_method: 'none' },
    });
    tv = await oidc.discovery(new URL(issuer), device.client.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  async function authorizationUrl(): Promise<string> {
    const url = oidc.buildAuthorizationUrl(app, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    });
    return url.toString();
  }

  /** The options of the file's browser context (freshTab closes the last one and opens another). */
  const TAB = { viewport: { width: 900, height: 760 }, locale: 'en-US' } as const;
  let tab: BrowserContext | undefined;

  /** The file's tab as a new browser (freshTab: no cookie, no storage, no session at Gatehouse). */
  async function freshPage(): Promise<Page> {
    const fresh = await freshTab(browser, tab, TAB);
    tab = fresh.context;
    await fresh.page.emulateMedia({ colorScheme: 'light' });
    return fresh.page;
  }

  /**
   * `page` in `scheme` (emulated, as a context's colorScheme would) with its language switcher set
   * to `locale`, and what its console reports as blocked by the CSP from now on (`stop` ends that).
   */
  async function personIn(page: Page, locale: string, colorScheme: 'light' | 'dark'): Promise<{ csp: string[]; stop: () => void }> {
    await page.emulateMedia({ colorScheme });
    const csp: string[] = [];
    const listener = (message: ConsoleMessage) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) csp.push(message.text());
    };
    page.on('console', listener);
    await page.goto(`${issuer}/interaction/language/${locale}?return=/device`);
    expect(await page.getAttribute('html', 'lang')).to.equal(locale);
    return { csp, stop: () => page.off('console', listener) };
  }

  /**
   * In the dark scheme only the rules that read colours (COLOUR_RULES): the same page in the same
   * locale was audited in full in the light scheme by the light run of the same test.
   */
  async function check(page: Page, name: string, scheme: 'light' | 'dark'): Promise<void> {
    await screenshot(page, `expected-${name}`);
    const violations = scheme === 'dark' ? await darkSchemeViolations(page) : await axeViolations(page);
    expect(violations, `${name}: ${JSON.stringify(violations)}`).to.deep.equal([]);
    expect(await page.locator('nav.languages a').count(), `${name}: language switcher`).to.equal(3);
    expect(await page.locator('link[rel=icon]').count(), `${name}: favicon`).to.equal(1);
    // Korean lines break between words, not in the middle of one (the browser's default for Hangul).
    const wordBreak = await page.evaluate(() => getComputedStyle(document.querySelector('main')!).wordBreak);
    expect(wordBreak, `${name}: word-break`).to.equal((await page.getAttribute('html', 'lang')) === 'ko' ? 'keep-all' : 'normal');
  }

  // Before the "too many wrong codes" runs below: those block this IP's device form for the window.
  // Every test is in a block of three, in this order (mocha runs a block's own tests before the
  // blocks inside it).
  describe('signed in once: device confirmation and success, provider error, busy', () => {
    let page: Page;
    // The device pages need a signed-in person; signing in is the next block's subject.
    before(async () => {
      page = await freshPage();
      await page.goto(await authorizationUrl());
      await page.fill('#username', 'alice');
      await page.fill('#password', PASSWORD);
      await page.click('button.primary');
      await page.waitForSelector('.scopes');
    });

    for (const scheme of ['light', 'dark'] as const) {
      for (const locale of LOCALES) {
        if (scheme === 'dark' && locale !== 'en' && locale !== 'ko') continue;
        it(`${locale}, ${scheme}: device confirmation and success, provider error, busy`, async () => {
          const { csp, stop } = await personIn(page, locale, scheme);
          const tag = `${locale}-${scheme}`;
          try {
            const device = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
            await page.goto(`${issuer}/device`);
            await page.fill('#user_code', device.user_code);
            await page.click('button.primary');
            await page.waitForSelector('.user-code');
            await check(page, `device-confirm-${tag}`, scheme);
            await page.click('button[name=confirm]');
            await page.waitForSelector('#page-title');
            await check(page, `device-success-${tag}`, scheme);
            expect(await page.locator('.reference').count(), 'no support reference on a success page').to.equal(0);

            const error = await page.goto(`${issuer}/auth?client_id=not-registered&response_type=code&scope=openid&redirect_uri=https://evil.example/cb`);
            expect(error?.status()).to.equal(400);
            await check(page, `error-${tag}`, scheme);
            expect(await page.locator('.reference').count(), 'no support reference when the application is at fault').to.equal(0);

            // The busy page (a saturated hashing pool) rendered by the real templates at this origin.
            const html = await views.render('busy', locale, { title: views.translate(locale)('busy.title'), retryUrl: '/interaction/x', requestId: 'ref-123', showReference: true, languages: languageLinks(views, locale, '/interaction/x') });
            await page.route(`${issuer}/busy-preview`, (route) => route.fulfill({ status: 503, contentType: 'text/html', body: html }));
            await page.goto(`${issuer}/busy-preview`);
            await check(page, `busy-${tag}`, scheme);
            expect(csp, 'CSP violations').to.deep.equal([]);
          } finally {
            stop();
            await page.unroute(`${issuer}/busy-preview`);
          }
        });
      }
    }
  });

  describe('each from a new browser: sign-in, consent, sign-out, 404, device codes', () => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const locale of LOCALES) {
        if (scheme === 'dark' && locale !== 'en' && locale !== 'ko') continue;
        it(`${locale}, ${scheme}: sign-in with show-password, consent with "not you?", sign-out back to the app, 404, device codes`, async () => {
          const page = await freshPage();
          const { csp, stop } = await personIn(page, locale, scheme);
          const tag = `${locale}-${scheme}`;
          try {
            await page.goto(await authorizationUrl());
            expect(await page.getAttribute('html', 'lang')).to.equal(locale);
            const toggle = page.locator('button[data-password-toggle]');
            await page.fill('#username', 'alice');
            await page.fill('#password', 'wrong password!');
            await toggle.click();
            expect(await page.getAttribute('#password', 'type'), 'the toggle shows the password').to.equal('text');
            expect(await toggle.getAttribute('aria-pressed')).to.equal('true');
            await check(page, `sign-in-shown-${tag}`, scheme);
            expect(await page.locator('.reference').count(), 'no support reference on a normal page').to.equal(0);
            await toggle.click();
            expect(await page.getAttribute('#password', 'type')).to.equal('password');
            await page.click('button.primary');
            await page.waitForSelector('#login-error');
            await check(page, `sign-in-failed-${tag}`, scheme);

            await page.fill('#password', PASSWORD);
            await page.click('button.primary');
            await page.waitForSelector('.scopes');
            expect(await page.textContent('.account')).to.include('Alice Liddell (alice)');
            await check(page, `consent-${tag}`, scheme);

            await page.click('.account a');
            await page.waitForSelector('form button[name=logout]');
            await check(page, `sign-out-${tag}`, scheme);
            await page.click('button[name=logout]');
            await page.waitForSelector('a.button.primary');
            expect(await page.getAttribute('a.button.primary', 'href'), 'back to the application').to.equal('https://expenses.example.com/');
            await check(page, `signed-out-${tag}`, scheme);

            const missing = await page.goto(`${issuer}/no-such-page`);
            expect(missing?.status()).to.equal(404);
            expect(missing?.headers()['content-type']).to.match(/^text\/html/);
            await check(page, `not-found-${tag}`, scheme);
            expect(await page.locator('.reference').count(), 'no support reference on a 404 (only server failures carry one)').to.equal(0);

            const device = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
            expect(device.user_code).to.be.a('string');
            await page.goto(`${issuer}/device`);
            await check(page, `device-input-${tag}`, scheme);
            for (let attempt = 0; attempt < 4 && (await page.locator('a.button.secondary').count()) === 0; attempt += 1) {
              await page.fill('#user_code', 'BCDF-GHJK');
              await page.click('button.primary');
              await page.waitForSelector('h1');
            }
            expect(await page.locator('a.button.secondary').getAttribute('href'), 'blocked: back to the code form').to.equal('/device');
            await check(page, `device-too-many-${tag}`, scheme);
            expect(csp, 'CSP violations').to.deep.equal([]);
          } finally {
            stop();
          }
        });
      }
    }
  });

  describe('the language switcher, the device wording, no JavaScript', () => {
    it('the language switcher keeps the person on the same page, and wins over the app\'s ui_locales', async () => {
      const page = await freshPage();
      const url = new URL(await authorizationUrl());
      url.searchParams.set('ui_locales', 'en');
      await page.goto(url.toString());
      const signIn = page.url();
      expect(await page.getAttribute('html', 'lang')).to.equal('en');
      await page.click('nav.languages a[lang=ru]');
      expect(page.url(), 'the same sign-in page').to.equal(signIn);
      expect(await page.getAttribute('html', 'lang')).to.equal('ru');
      expect(await page.textContent('h1')).to.equal('Вход');
      const away = await page.request.get(`${issuer}/interaction/language/ko?return=https://evil.example/`, { maxRedirects: 0 });
      expect(away.status()).to.equal(303);
      expect(away.headers().location, 'never to another site').to.not.include('evil.example');
      const favicon = await page.request.get(`${issuer}/favicon.ico`);
      expect(favicon.status()).to.equal(200);
      expect(favicon.headers()['content-type']).to.equal('image/svg+xml');
    });

    it('the device "too many wrong codes" page speaks of devices, not of going back to an application', async () => {
      const page = await freshPage();
      await page.goto(`${issuer}/device`);
      for (let attempt = 0; attempt < 4 && (await page.locator('a.button.secondary').count()) === 0; attempt += 1) {
        await page.fill('#user_code', 'BCDF-GHJK');
        await page.click('button.primary');
        await page.waitForSelector('h1');
      }
      const text = await page.textContent('main');
      expect(text).to.include('device').and.not.include('go back to the application');
      expect(await page.textContent('h1')).to.equal('Too many wrong codes');
    });

    it('with JavaScript off, the sign-in page works without the password toggle (it stays hidden)', async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      try {
        await page.goto(await authorizationUrl());
        expect(await page.locator('button[data-password-toggle]').isHidden()).to.equal(true);
        expect(await page.locator('#password').isVisible()).to.equal(true);
      } finally {
        await context.close();
      }
    });
  });
});
