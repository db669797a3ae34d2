import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { consoleOperator, launchChromium } from './browser.ts';

/** Each payload sets window.__probe (or opens a dialog) if the console ever parses it as markup. */
const PAYLOAD = {
  img: '<img src=x onerror="window.__probe=1">',
  svg: '"><svg onload="window.__probe=2">',
  script: '</td><script>window.__probe=3</script>',
} as const;

/**
 * Probe (probe22): what an operator — or a Keycloak import — puts into a claim scope's consent
 * texts and a user's custom attributes is shown on the console's new pages (Claim scopes list and
 * page, the user page's Custom attributes card) in another administrator's browser. Markup in it
 * must stay text there: no element made from it, no script run, no dialog.
 */
describe('probe: markup in claim scopes and custom attributes on the console pages (headless Chromium)', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let userId: string;

  before(async () => {
    deploy = await deployment('probe_console_markup');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    const token = await (await adminClient(gatehouse)).token();
    const scope = await callAdmin(gatehouse.url, token, 'POST', '/claim-scopes', {
      name: 'markup',
      description: { en: `${PAYLOAD.img} team`, ru: `${PAYLOAD.svg} команда`, 'zh-CN': `${PAYLOAD.script} 团队`, ko: `${PAYLOAD.img} 팀` },
      mappers: [{ type: 'hardcoded', claim: 'team', value: PAYLOAD.svg }, { type: 'user_attribute', attribute: 'department', claim: 'department' }],
    });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    const user = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'marked', password: PASSWORD, attributes: { department: PAYLOAD.script, langs: [PAYLOAD.img, PAYLOAD.svg] } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    userId = user.body.id as string;
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'probe-console-markup');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function injected(page: Page): Promise<unknown> {
    return page.evaluate(() => (window as unknown as { __probe?: unknown }).__probe ?? document.querySelector('main img[src="x"], main svg[onload], main script'));
  }

  it('the Claim scopes list, the scope page and the user page show the texts as text', async () => {
    const page = await operatorPage(deploy.issuer);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${deploy.issuer}/console/#/claim-scopes`);
    await page.getByText('markup', { exact: true }).first().waitFor();
    expect(await injected(page), 'list').to.equal(null);

    await page.goto(`${deploy.issuer}/console/#/claim-scopes/markup`);
    await page.locator('[id="f-description.en"]').waitFor();
    expect(await page.locator('[id="f-description.en"]').inputValue()).to.equal(`${PAYLOAD.img} team`);
    expect(await page.locator('[id="f-description.zh-CN"]').inputValue()).to.equal(`${PAYLOAD.script} 团队`);
    expect(await injected(page), 'scope page').to.equal(null);

    await page.goto(`${deploy.issuer}/console/#/users/${userId}`);
    await page.getByText('marked').first().waitFor();
    // The Custom attributes card: one NAME=VALUE a line, the values as typed.
    await page.waitForFunction((value) => [...document.querySelectorAll('main textarea')].some((area) => (area as HTMLTextAreaElement).value.includes(value)), `department=${PAYLOAD.script}`);
    expect(await injected(page), 'user page').to.equal(null);
    expect(dialogs).to.deep.equal([]);
  });
});
