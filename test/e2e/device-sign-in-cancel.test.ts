import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { instanceForSuite } from '../helpers/e2e.ts';
import { launchChromium, screenshot, seriousViolations } from './browser.ts';

const PASSWORD = 'a long enough password';
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/** A string of the hosted pages' locale file (views/locales), as the page shows it. */
function pageString(locale: string, key: string): string {
  const strings = JSON.parse(readFileSync(new URL(`../../views/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!;
}

/**
 * The device flow's sign-in happens on a phone or a laptop while the application waits on a TV:
 * there is no application page to go back to. Its sign-in page offers a plain cancel of the
 * device's sign-in (not "go back to the application"), and cancelling — there or on the
 * confirmation page — ends on a page that says the device was not connected and that the window
 * can be closed (Keycloak: "Device Login Failed … you may close this browser window"); the
 * device's polling gets access_denied.
 */
describe('device flow: cancelling the sign-in (headless Chromium)', function () {
  this.timeout(180_000);
  const suite = instanceForSuite('e2e_device_cancel');
  let browser: Browser;
  let tv: oidc.Configuration;

  before(async () => {
    const { gatehouse, deploy } = suite;
    await gatehouse.services.accounts.createUser({ username: 'alice', email: 'alice@example.com', password: PASSWORD });
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Living Room TV',
      firstParty: true,
      metadata: { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none' },
    });
    tv = await oidc.discovery(new URL(deploy.issuer), client.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  async function deniedPoll(deviceCode: string): Promise<string> {
    try {
      await oidc.genericGrantRequest(tv, 'urn:ietf:params:oauth:grant-type:device_code', { device_code: deviceCode });
      return 'tokens';
    } catch (error) {
      return String((error as { error?: unknown }).error);
    }
  }

  for (const locale of LOCALES) {
    it(`${locale}: the sign-in page offers to cancel the device's sign-in, not to go back to an application; cancelled, the page says the device was not connected and the window can be closed`, async () => {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      try {
        const device = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
        await page.goto(device.verification_uri_complete!);
        await page.click('button[name=confirm]');
        await page.waitForSelector('#username');
        const cancel = page.locator('form[action$="/abort"] button');
        expect(await cancel.textContent()).to.equal(pageString(locale, 'login.cancel_device'));
        expect(await page.locator('main').innerText()).to.not.include(pageString(locale, 'login.cancel'));
        expect(await seriousViolations(page), locale).to.deep.equal([]);
        await screenshot(page, `device-sign-in-${locale}`);
        await page.setViewportSize({ width: 390, height: 844 });
        await screenshot(page, `device-sign-in-${locale}-390`);
        await cancel.click();
        await page.locator('h1', { hasText: pageString(locale, 'device.cancelled_title') }).waitFor();
        expect(await page.locator('main').innerText()).to.include(pageString(locale, 'device.cancelled_lead'));
        expect(await seriousViolations(page), locale).to.deep.equal([]);
        await screenshot(page, `device-cancelled-${locale}-390`);
        await page.setViewportSize({ width: 1280, height: 800 });
        await screenshot(page, `device-cancelled-${locale}`);
        expect(await deniedPoll(device.device_code)).to.equal('access_denied');

        // The confirmation page's Cancel ends the same way.
        const second = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
        await page.goto(second.verification_uri_complete!);
        await page.click('button[name=abort]');
        await page.locator('h1', { hasText: pageString(locale, 'device.cancelled_title') }).waitFor();
        expect(await deniedPoll(second.device_code)).to.equal('access_denied');
        // Another code can still be entered from there.
        await page.getByRole('link', { name: pageString(locale, 'device.cancelled_again') }).click();
        await page.waitForSelector('#user_code');
      } finally {
        await context.close();
      }
    });
  }

  it("an application's sign-in (not a device's) still offers to go back to it", async () => {
    const { gatehouse, deploy } = suite;
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Expense Tracker',
      firstParty: true,
      metadata: { redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    });
    const config = await oidc.discovery(new URL(deploy.issuer), client.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://app.example/cb', scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const context = await browser.newContext({ locale: 'en' });
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      await page.waitForSelector('#username');
      expect(await page.locator('form[action$="/abort"] button').textContent()).to.equal(pageString('en', 'login.cancel'));
    } finally {
      await context.close();
    }
  });
});
