import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { eventually } from '../helpers/poll.ts';
import { launchChromium, reportFailedPage, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { application, operator, startCodeFlow, type Operator } from './outside.ts';

const TEMPORARY = 'handed over on paper 41';
const CHOSEN = 'my very own passphrase 42';
/** The second-factor clock seam: the authenticator app below computes its code for the same instant. */
const NOW = new Date('2026-11-30T09:00:10Z');

/**
 * From outside: an operator makes a user with the admin API — a temporary password and required
 * actions — and the user, in headless Chromium, signs in to an app (openid-client, code + PKCE) and
 * is walked through every step before the app gets its tokens.
 */
describe('outside: temporary password + required actions, set by the admin API, walked through in Chromium', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let ops: Operator;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;

  before(async () => {
    deploy = await deployment('outside_reqact', { secondFactorClock: () => NOW });
    gatehouse = await deploy.start();
    ops = await operator(deploy);
    browser = await launchChromium();
    await rp.start();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'outside-required-actions-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('update_password, configure_totp and update_profile, in that order, then the app gets tokens carrying the new profile', async () => {
    const app = await application(deploy.issuer, await ops.call('POST', '/clients', { name: 'Ledger', redirect_uris: [`${rp.origin}/cb`], first_party: true }));

    const created = await ops.call('POST', '/users', { username: 'carol', email: 'carol@example.com', password: TEMPORARY, required_actions: ['update_profile', 'configure_totp'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    expect((await ops.call('PUT', `/users/${id}/password`, { password: TEMPORARY, temporary: true })).status).to.equal(204);
    // README: GET shows them in the order the sign-in asks for them.
    expect((await ops.call('GET', `/users/${id}`)).body.required_actions).to.deep.equal(['update_password', 'configure_totp', 'update_profile']);
    const unknown = await ops.call('PATCH', `/users/${id}`, { required_actions: ['update_password', 'TERMS'] });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.details[0]).to.include({ path: 'required_actions.1', code: 'unknown_required_action' });

    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();
    const flow = await startCodeFlow(page, app, `${rp.origin}/cb`);
    await page.fill('#username', 'carol');
    await page.fill('#password', TEMPORARY);
    await page.click('button.primary');

    // 1. update_password
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    await screenshot(page, 'outside-required-password-en');
    await page.fill('#password', CHOSEN);
    await page.fill('#confirm', CHOSEN);
    await page.click('button.primary');

    // 2. configure_totp: an authenticator app reads the key off the page.
    await page.waitForSelector('#secret');
    const key = (await page.textContent('#secret'))!.replace(/\s/g, '');
    const code = new TOTP({ secret: Secret.fromBase32(key), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: NOW.getTime() });
    await page.fill('#code', code);
    await page.click('button.primary');
    await page.waitForSelector('.recovery-codes');
    expect(await page.locator('.recovery-codes li').count()).to.equal(10);
    await page.click('a.button.primary');

    // 3. update_profile
    await page.waitForSelector('#given_name');
    await screenshot(page, 'outside-required-profile-en');
    expect(page.url().startsWith(rp.origin), 'no code before the last step').to.equal(false);
    await page.fill('#given_name', 'Carol');
    await page.fill('#family_name', 'Danvers');
    await page.click('button.primary');

    const tokens = await flow.finish();
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(id);
    expect(claims).to.include({ given_name: 'Carol', family_name: 'Danvers', acr: 'mfa' });
    const user = (await ops.call('GET', `/users/${id}`)).body;
    expect(user.required_actions).to.deep.equal([]);
    expect(user).to.include({ given_name: 'Carol', family_name: 'Danvers' });
    // Audit events are written in the background (audit.record): the last one may come a moment after the redirect.
    const actions = await eventually(
      async () => ((await ops.call('GET', '/audit-events?type=user.required_action_completed&user=carol')).body.events as Array<{ details: { action: string } }>).map((event) => event.details.action).sort(),
      (done) => done.length >= 3,
    );
    expect(actions).to.deep.equal(['configure_totp', 'update_password', 'update_profile']);

    // The temporary password is gone; the chosen one signs in (straight to the second factor).
    await context.clearCookies();
    await startCodeFlow(page, app, `${rp.origin}/cb`);
    await page.fill('#username', 'carol');
    await page.fill('#password', TEMPORARY);
    await page.click('button.primary');
    await page.getByRole('alert').waitFor();
    await page.fill('#username', 'carol');
    await page.fill('#password', CHOSEN);
    await page.click('button.primary');
    await page.waitForSelector('#code');
    expect(await page.locator('#secret').count(), 'no second enrolment').to.equal(0);
  });

  it('a password grant for a user with an action still to do is refused with Keycloak\'s words', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Legacy', first_party: true, allow_password_grant: true, redirect_uris: [] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const user = await ops.call('POST', '/users', { username: 'dave', password: TEMPORARY, required_actions: ['update_profile'] });
    expect(user.status).to.equal(201);
    const response = await fetch(`${deploy.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${created.body.client_id}:${created.body.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'dave', password: TEMPORARY, scope: 'openid' }).toString(),
    });
    const body = (await response.json()) as { error: string; error_description: string };
    expect(response.status).to.equal(400);
    expect(body.error).to.equal('invalid_grant');
    expect(body.error_description).to.match(/^Account is not fully set up/);
  });
});
