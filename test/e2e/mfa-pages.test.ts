import { expect } from 'chai';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { expectAccessible as expectPageAccessible, launchChromium, noCspViolationsAfterEach, watchedPage } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { authorizationRequest, submitPassword, webApp } from './sign-in.ts';

describe('second-factor pages in headless Chromium (enrolment, codes, verification; four languages)', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let app: oidc.Configuration;
  let now = new Date('2026-04-01T08:00:05Z');
  let cspViolations: string[] = [];
  const expectAccessible = (name: string) => expectPageAccessible(page, name);
  const authorizationUrl = async (parameters?: Record<string, string>) => (await authorizationRequest(app, rp, parameters)).url;
  const password = (username: string) => submitPassword(page, username);

  before(async () => {
    await rp.start();
    deploy = await deployment('e2e_mfa', { settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance' }, secondFactorClock: () => now });
    gatehouse = await deploy.start();
    for (const username of ['erin', 'frank']) await gatehouse.services.accounts.createUser({ username, password: PASSWORD, roles: ['finance'] });
    app = await webApp(gatehouse, deploy.issuer, rp);
    browser = await launchChromium();
    ({ context, page, cspViolations } = await watchedPage(browser));
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await rp.close();
    await deploy?.drop();
  });

  noCspViolationsAfterEach(() => cspViolations);

  it('enrols with the keyboard: QR code and key shown, wrong code explained, recovery codes shown once, back in the app', async () => {
    await page.goto(await authorizationUrl());
    await password('erin');
    await page.waitForSelector('.qr svg');
    await expectAccessible('mfa-enrol-en');
    const secret = (await page.textContent('#secret'))!.replace(/\s/g, '');

    await page.focus('#code');
    await page.keyboard.type(totpCode(secret, now) === '000000' ? '111111' : '000000');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role=alert]');
    expect(await page.textContent('[role=alert]')).to.contain('codes change every 30 seconds');
    await expectAccessible('mfa-enrol-failed');

    await page.fill('#code', totpCode(secret, now));
    await page.keyboard.press('Enter');
    await page.waitForSelector('.recovery-codes');
    expect(await page.locator('.recovery-codes li').count()).to.equal(10);
    await expectAccessible('mfa-recovery-codes');
    await page.click('a.button.primary');
    await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/cb`));
    expect(new URL(page.url()).searchParams.get('code')).to.be.a('string');
  });

  it('asks for the code in every language, accessibly', async () => {
    const { secret } = await (async () => {
      const fresh = await browser.newContext();
      const other = await fresh.newPage();
      await other.goto(await authorizationUrl());
      await submitPassword(other, 'frank');
      await other.waitForSelector('#secret');
      const key = (await other.textContent('#secret'))!.replace(/\s/g, '');
      await other.fill('#code', totpCode(key, now));
      await other.click('button.primary');
      await other.waitForSelector('.recovery-codes');
      await fresh.close();
      return { secret: key };
    })();
    now = new Date(now.getTime() + 30_000);
    for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
      await context.clearCookies();
      await page.goto(await authorizationUrl({ ui_locales: locale }));
      await password('frank');
      await page.waitForSelector('#code');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(`mfa-verify-${locale}`);
    }
    await page.fill('#code', totpCode(secret, now));
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/cb`));
  });
});
