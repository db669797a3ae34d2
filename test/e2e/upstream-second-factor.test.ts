import { expect } from 'chai';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { launchChromium } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, webApp, type CodeFlow } from './sign-in.ts';
import { secondGatehouseUpstream, type UpstreamPair } from './upstream.ts';

/**
 * An upstream identity that is not linked yet is linked to the local account the person then
 * signs in with. For an account with a second factor, its password alone must not do that, and
 * the upstream's own `mfa` says nothing about the local account: otherwise a stolen password
 * plus any upstream account with MFA (the attacker's own) links that upstream account to the
 * victim and skips the victim's second factor, now and at every later upstream sign-in.
 */
describe('upstream sign-in and the local second factor (headless Chromium, a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  const app = new RelyingPartyServer();
  let pair: UpstreamPair;
  let gatehouse: RunningGatehouse;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let flow: CodeFlow;
  let now = new Date('2026-05-04T09:00:05Z');
  let upstreamNow = new Date('2026-05-04T09:00:05Z');

  /** A user with an authenticator app on `at`; resolves to its secret. */
  async function withApp(target: RunningGatehouse, userId: string, at: Date): Promise<string> {
    const { secret } = await target.services.factors.beginTotp(userId);
    if (!(await target.services.factors.confirmTotp(userId, totpCode(secret, at), '192.0.2.1')).ok) throw new Error('enrolment failed');
    await target.services.accounts.setSecondFactor(userId, true);
    return secret;
  }

  async function freshBrowser() {
    ({ context, page, flow } = await freshFlowPage(browser, context, portal, app));
  }

  /** Signs in at the upstream with the password, then its authenticator app. */
  async function upstreamWithCode(username: string, secret: string) {
    await pair.signInUpstream(page, username);
    await page.waitForSelector('#code');
    await page.fill('#code', totpCode(secret, upstreamNow));
    await page.click('button.primary');
  }

  before(async () => {
    await app.start();
    pair = await secondGatehouseUpstream('e2e_upstream_mfa', {
      aliases: ['corp'],
      scope: 'openid profile email',
      users: [
        { username: 'mallory', email: 'mallory@elsewhere.example', emailVerified: true, name: 'Mallory' },
        { username: 'norma', email: 'norma@elsewhere.example', emailVerified: true, name: 'Norma' },
      ],
      secondFactorClock: () => now,
      upstreamSecondFactorClock: () => upstreamNow,
    });
    gatehouse = pair.gatehouse;
    portal = await webApp(gatehouse, pair.downDeploy.issuer, app, { displayName: 'Portal', scope: 'openid profile email' });
    await pair.addProvider('corp', { scopes: ['openid', 'profile', 'email'] });
    browser = await launchChromium();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await pair?.close();
    await app.close();
  });

  it("a password alone links nothing to an account with a second factor, and the upstream's mfa does not stand in for the local one", async () => {
    const mallory = (await pair.upstream.services.accounts.findByLogin('mallory'))!;
    const upstreamSecret = await withApp(pair.upstream, mallory.id, upstreamNow);
    upstreamNow = new Date(upstreamNow.getTime() + 60_000);
    const victim = await gatehouse.services.accounts.createUser({ username: 'vera', password: PASSWORD, email: 'vera@example.com', emailVerified: true });
    const secret = await withApp(gatehouse, victim.id, now);
    now = new Date(now.getTime() + 60_000);

    // Someone who knows vera's password (only) and holds an upstream account with MFA of their own.
    await freshBrowser();
    const checks = await flow.start({ scope: 'openid profile email' });
    await page.click('a.upstream[data-provider=corp]');
    await upstreamWithCode('mallory', upstreamSecret);
    await page.waitForSelector('.upstream-pending');
    await page.fill('#username', 'vera');
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    // vera's own second factor is asked for, and nothing is linked before it is passed.
    await page.waitForSelector('#code');
    expect(await gatehouse.services.upstream.linksOf(victim.id), 'linked on the password alone').to.deep.equal([]);

    // vera herself passes it: the identity is linked now, and the session names every method.
    await page.fill('#code', totpCode(secret, now));
    await page.click('button.primary');
    const claims = (await flow.grant(checks)).claims()!;
    expect(claims.sub).to.equal(victim.id);
    expect(claims.amr).to.include.members(['fed', 'pwd', 'otp', 'mfa']);
    expect((await gatehouse.services.upstream.linksOf(victim.id)).map((link) => link.provider)).to.deep.equal(['corp']);
  });

  it('links on the password as before for an account without a second factor, where the upstream amr is not taken as the local account’s', async () => {
    const norma = await gatehouse.services.accounts.createUser({ username: 'nina', password: PASSWORD, email: 'nina@example.com', emailVerified: true });
    const upstreamUser = (await pair.upstream.services.accounts.findByLogin('norma'))!;
    upstreamNow = new Date(upstreamNow.getTime() + 60_000);
    const upstreamSecret = await withApp(pair.upstream, upstreamUser.id, upstreamNow);
    upstreamNow = new Date(upstreamNow.getTime() + 60_000);

    await freshBrowser();
    const checks = await flow.start({ scope: 'openid profile email' });
    await page.click('a.upstream[data-provider=corp]');
    await upstreamWithCode('norma', upstreamSecret);
    await page.waitForSelector('.upstream-pending');
    await page.fill('#username', 'nina');
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    const claims = (await flow.grant(checks)).claims()!;
    expect(claims.sub).to.equal(norma.id);
    expect(claims.amr).to.include.members(['fed', 'pwd']);
    expect(claims.amr, 'the local account was proved with a password only').to.not.include('mfa');
    expect(claims.acr).to.equal('password');
    expect((await gatehouse.services.upstream.linksOf(norma.id)).map((link) => link.provider)).to.deep.equal(['corp']);
  });
});
