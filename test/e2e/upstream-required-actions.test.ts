import { expect } from 'chai';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { launchChromium, reportFailedPage } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, webApp, type CodeFlow } from './sign-in.ts';
import { secondGatehouseUpstream, type UpstreamPair } from './upstream.ts';

/**
 * Required actions of a user who signs in through an upstream provider (a second Gatehouse):
 * the sign-in asks for them after the upstream, before the application gets a code, as it does
 * after a password. `update_password` of a user without a password (an upstream-only account)
 * cannot be asked — there is no current password to replace, and Keycloak's brokered sign-in
 * asks for it anyway, making such users set one — here it is passed over and stays listed until
 * the user has a password (README: Required actions). Headless Chromium is the user,
 * openid-client the application.
 */
describe('upstream sign-in with required actions (headless Chromium, a second Gatehouse upstream, openid-client)', function () {
  this.timeout(180_000);
  const app = new RelyingPartyServer();
  let now = new Date('2026-05-04T09:00:05Z');
  let pair: UpstreamPair;
  let gatehouse: RunningGatehouse;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page;
  let flow: CodeFlow;
  let admin: string;
  let userId = '';

  const api = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, admin, method, path, body);
  const listed = async () => (await api('GET', `/users/${userId}`)).body.required_actions as string[];

  /** A new browser (no session here; the upstream's is gone too) through the upstream's sign-in to what the sign-in here asks next. */
  async function throughUpstream() {
    ({ context, page, flow } = await freshFlowPage(browser, context, portal, app));
    const checks = await flow.start({ scope: 'openid profile email' });
    await page.click('a.upstream[data-provider=corp]');
    await pair.signInUpstream(page, 'uma');
    return checks;
  }

  before(async () => {
    await app.start();
    pair = await secondGatehouseUpstream('e2e_upstream_reqact', {
      aliases: ['corp'],
      users: [{ username: 'uma', email: 'uma@corp.example', emailVerified: true, name: 'Uma Upstream' }],
      secondFactorClock: () => now,
    });
    gatehouse = pair.gatehouse;
    portal = await webApp(gatehouse, pair.downDeploy.issuer, app, { displayName: 'Portal', scope: 'openid profile email' });
    await pair.addProvider('corp');
    admin = await (await adminClient(gatehouse)).token();
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'upstream-required-actions-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await pair?.close();
    await app.close();
  });

  it('the first upstream sign-in creates the account (no password here)', async () => {
    const checks = await throughUpstream();
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    const claims = (await flow.grant(checks)).claims()!;
    userId = claims.sub;
    expect((await gatehouse.services.accounts.findById(userId))?.hasPassword).to.equal(false);
  });

  it('update_profile (with update_password, which an upstream-only user cannot do): the names are asked, then the app gets its code; update_password stays listed', async () => {
    expect((await api('PATCH', `/users/${userId}`, { required_actions: ['update_password', 'update_profile'] })).status).to.equal(200);
    const before = app.last('/cb');
    const checks = await throughUpstream();
    await page.waitForSelector('form[action$="/update-profile"]');
    expect(app.last('/cb'), 'no code before the step').to.equal(before);
    await page.fill('#given_name', 'Uma');
    await page.fill('#family_name', 'Upton');
    await page.click('button.primary');
    const claims = (await flow.grant(checks)).claims()!;
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.include('fed');
    const shown = (await api('GET', `/users/${userId}`)).body;
    expect([shown.given_name, shown.family_name]).to.deep.equal(['Uma', 'Upton']);
    expect(await listed(), 'until the user has a password').to.deep.equal(['update_password']);
  });

  it('configure_totp: the authenticator-app enrolment is asked; its first code is the sign-in’s second factor; then the app gets its code', async () => {
    expect((await api('PATCH', `/users/${userId}`, { required_actions: ['configure_totp'] })).status).to.equal(200);
    const checks = await throughUpstream();
    await page.waitForSelector('form[action$="/enrol"]');
    const secret = ((await page.textContent('#secret')) ?? '').replace(/ /g, '');
    await page.fill('#code', totpCode(secret, now));
    await page.click('form[action$="/enrol"] button.primary');
    await page.waitForSelector('a.button.primary');
    await page.click('a.button.primary');
    const claims = (await flow.grant(checks)).claims()!;
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.include.members(['fed', 'otp']);
    expect(await listed()).to.deep.equal([]);
    expect((await gatehouse.services.accounts.findById(userId))?.secondFactor).to.equal(true);
    now = new Date(now.getTime() + 60_000);
  });

});
