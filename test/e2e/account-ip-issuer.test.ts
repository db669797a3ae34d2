import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { launchChromium, reportFailedPage } from './browser.ts';

const strings = JSON.parse(readFileSync(new URL('../../src/account/web/locales/en.json', import.meta.url), 'utf8')) as Record<string, string>;

/**
 * The account page on an issuer whose host is an IP address (WebAuthn cannot work there): its
 * "Sign-in & security" section asks for an authenticator app, not for a passkey it cannot add.
 */
describe('account page on an issuer at an IP address (headless Chromium)', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let browser: Browser;
  let page: Page;

  before(async () => {
    deploy = await deployment('e2e_account_ip');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'account-ip-issuer-failed');
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('asks for an authenticator app only, and says passkeys cannot be added here', async () => {
    expect(new URL(deploy.issuer).hostname).to.equal('127.0.0.1');
    await page.goto(`${deploy.issuer}/account/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#username');
    await page.fill('#username', cast.user.username);
    await page.fill('#password', PASSWORD);
    await page.click('button.primary');
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Sign-in & security' }).click();
    await page.getByRole('heading', { name: 'Sign-in & security', level: 1 }).waitFor();
    const status = (await page.locator('main .factor-status').textContent())!;
    expect(status).to.equal(strings['security.mfa.off_no_passkeys']);
    expect(status.toLowerCase()).to.not.contain('passkey');
    expect(await page.locator('main').textContent()).to.contain(strings['passkeys.unavailable']);
  });
});
