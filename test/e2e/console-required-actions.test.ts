import { expect } from 'chai';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { chooseConsoleLocale, consoleOperator, launchChromium, reportFailedPage, screenshot, seriousViolations, STEP_LIMIT_MS } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, submitPassword, webApp, type CodeFlow } from './sign-in.ts';

const TEMPORARY = 'a temporary passphrase 31';
const CHOSEN = 'the passphrase tess chose 59';

/** The card's words in each console language (src/console/web/locales). */
const CARD = {
  en: { heading: 'Required actions', update_password: 'Update password' },
  ru: { heading: 'Обязательные действия', update_password: 'Сменить пароль' },
  'zh-CN': { heading: '必需操作', update_password: '更新密码' },
  ko: { heading: '필수 작업', update_password: '비밀번호 변경' },
} as const;

/**
 * The console's Required actions card and Temporary password box, end to end: an operator (headless
 * Chromium, the console) asks for a profile update and sets a temporary password; the user then
 * signs in to an application (openid-client) in another browser, is made to choose a new
 * password and give their names, and only then does the application get its code. The card is
 * drawn in en, ru, zh-CN and ko (screenshots console-required-actions-LOCALE).
 */
describe('console: Required actions card and Temporary password (headless Chromium, openid-client)', function () {
  this.timeout(240_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let userPage: Page | undefined;
  let flow: CodeFlow;
  let admin: string;
  let tess = '';
  const operatorPage = consoleOperator(() => browser, 'console-required-actions');
  const shown = async () => (await callAdmin(gatehouse.url, admin, 'GET', `/users/${tess}`)).body as { required_actions: string[]; given_name: string | null };

  before(async () => {
    deploy = await deployment('console_reqact');
    gatehouse = await deploy.start();
    await rp.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    tess = (await gatehouse.services.accounts.createUser({ username: 'tess', password: PASSWORD, email: 'tess@example.com', emailVerified: true })).id;
    app = await webApp(gatehouse, deploy.issuer, rp, { displayName: 'Ledger', scope: 'openid profile' });
    admin = await (await adminClient(gatehouse)).token();
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && userPage !== undefined) await reportFailedPage(userPage, 'console-required-actions-user-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('the operator ticks Update profile and saves; then sets a temporary password, which ticks Update password; the card in four languages', async () => {
    const page = await operatorPage(deploy.issuer, { width: 1280 });
    await page.goto(`${deploy.issuer}/console/#/users/${tess}`);
    await page.locator('#required-actions-heading').waitFor({ timeout: STEP_LIMIT_MS });
    expect(await page.isChecked('#f-ra-update_password')).to.equal(false);
    await page.check('#f-ra-update_profile');
    await page.getByRole('button', { name: 'Save required actions' }).click();
    await page.getByText('Required actions saved.').waitFor();
    expect((await shown()).required_actions).to.deep.equal(['update_profile']);

    await page.fill('#f-password', TEMPORARY);
    await page.check('#f-temporary');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password set.').waitFor();
    expect((await shown()).required_actions).to.deep.equal(['update_password', 'update_profile']);
    expect(await page.isChecked('#f-ra-update_password'), 'the card shows what the temporary password added').to.equal(true);
    expect(await page.isChecked('#f-ra-update_profile')).to.equal(true);
    expect(await page.isChecked('#f-ra-configure_totp')).to.equal(false);

    for (const locale of Object.keys(CARD) as Array<keyof typeof CARD>) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, '#required-actions-heading');
      const card = page.locator('section.card', { has: page.locator('#required-actions-heading') });
      expect(await page.textContent('#required-actions-heading')).to.equal(CARD[locale].heading);
      expect(await page.textContent('label[for="f-ra-update_password"]')).to.equal(CARD[locale].update_password);
      expect(await card.innerText(), `${locale}: no string key shows`).to.not.match(/user\.requiredActions\./);
      expect(await seriousViolations(page), locale).to.deep.equal([]);
      await card.scrollIntoViewIfNeeded();
      await screenshot(page, `console-required-actions-${locale}`);
    }
    await page.context().close();
  });

  it('the user signs in to the application: made to choose a new password and give their names, then the application gets its code', async () => {
    ({ context, page: userPage, flow } = await freshFlowPage(browser, context, app, rp));
    const page = userPage;
    const checks = await flow.start({ scope: 'openid profile', ui_locales: 'en' });
    await submitPassword(page, 'tess', TEMPORARY);
    await page.waitForSelector('form[action$="/update-password"]');
    expect(await page.textContent('#page-title')).to.equal('Choose a new password');
    await page.fill('#password', CHOSEN);
    await page.fill('#confirm', CHOSEN);
    await page.click('button.primary');
    await page.waitForSelector('form[action$="/update-profile"]');
    expect(rp.last('/cb'), 'no code yet').to.equal(undefined);
    await page.fill('#given_name', 'Tess');
    await page.fill('#family_name', 'Durbeyfield');
    await page.click('button.primary');
    // Ledger is first-party: no consent page; the code is redeemed with openid-client.
    const claims = await flow.tokens(checks);
    expect(claims.sub).to.equal(tess);
    const after = await shown();
    expect(after.required_actions).to.deep.equal([]);
    expect(after.given_name).to.equal('Tess');
    expect((await gatehouse.services.accounts.authenticate('tess', CHOSEN, '198.51.100.7')).ok, 'the chosen password works').to.equal(true);
    expect((await gatehouse.services.accounts.authenticate('tess', TEMPORARY, '198.51.100.7')).ok, 'the temporary one no longer').to.equal(false);
  });
});
