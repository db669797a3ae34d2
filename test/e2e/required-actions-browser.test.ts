import { expect } from 'chai';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { callAdmin, adminClient } from '../helpers/admin.ts';
import { deployment, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, reportFailedPage } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, submitPassword, type CodeFlow } from './sign-in.ts';

const NEW_PASSWORD = 'a brand new passphrase 7';

/**
 * A temporary password in a real browser: headless Chromium is the user, openid-client the app.
 * The sign-in stops at "Choose a new password" until the user has chosen one; then the app gets
 * its code and tokens, and the new password is the one that works.
 */
describe('temporary password: the sign-in asks for a new one before the app gets tokens (headless Chromium + openid-client)', function () {
  this.timeout(180_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page;
  let flow: CodeFlow;
  let token: string;

  before(async () => {
    deploy = await deployment('reqact_browser');
    gatehouse = await deploy.start();
    await rp.start();
    const { client, secret } = await gatehouse.services.clients.create({
      displayName: 'Ledger',
      firstParty: true,
      metadata: { redirect_uris: [`${rp.origin}/cb`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
    });
    app = await relyingParty(deploy.issuer, client.clientId, secret!);
    token = await (await adminClient(gatehouse)).token();
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page !== undefined) await reportFailedPage(page, 'required-actions-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('update_password: refused twice (mismatch, the same password), then the new password, then the code and tokens', async () => {
    const username = `temp${Math.random().toString(36).slice(2, 8)}`;
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, password: PASSWORD });
    expect(created.status).to.equal(201);
    expect((await callAdmin(gatehouse.url, token, 'PUT', `/users/${created.body.id}/password`, { password: PASSWORD, temporary: true })).status).to.equal(204);

    ({ context, page, flow } = await freshFlowPage(browser, context, app, rp));
    const checks = await flow.start({ ui_locales: 'en' });
    await submitPassword(page, username);
    await page.waitForSelector('form[action$="/update-password"]');
    expect(await page.textContent('#page-title')).to.equal('Choose a new password');
    expect(await page.isChecked('#sign_out_others')).to.equal(true);

    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', `${NEW_PASSWORD}x`);
    await page.click('button.primary');
    await page.waitForSelector('#password-error');
    expect(await page.textContent('#password-error')).to.contain('The two passwords differ');
    expect(rp.last('/cb'), 'no code yet').to.equal(undefined);

    await page.fill('#password', PASSWORD);
    await page.fill('#confirm', PASSWORD);
    await page.click('button.primary');
    await page.waitForFunction(() => document.querySelector('#password-error')?.textContent?.includes('current password') === true);

    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.click('button.primary');
    const claims = await flow.tokens(checks);
    expect(claims.sub).to.equal(created.body.id);
    expect((await callAdmin(gatehouse.url, token, 'GET', `/users/${created.body.id}`)).body.required_actions).to.deep.equal([]);
    const checked = await gatehouse.services.accounts.authenticate(username, NEW_PASSWORD, '198.51.100.9');
    expect(checked.ok).to.equal(true);
  });
});
