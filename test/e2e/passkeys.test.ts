import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ACR } from '../../src/oidc/acr.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { expectAccessible, noCspViolationsAfterEach, screenshot, type VirtualAuthenticator } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { passkeyBrowser, submitPassword, webApp, type CodeFlow, type FlowChecks } from './sign-in.ts';

/**
 * Passkeys in real headless Chromium with a virtual authenticator (Chrome DevTools Protocol
 * WebAuthn domain): enrolment after the password, second factor, passwordless sign-in.
 */
describe('passkeys in headless Chromium with a virtual authenticator (WebAuthn over CDP)', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let authenticator: VirtualAuthenticator;
  /** The virtual authenticator answers by itself (a person touching it) only while this is on. */
  const presence = (enabled: boolean) => authenticator.presence(enabled);
  let flow: CodeFlow;
  let userId: string;
  let inbox: Inbox;
  let cspViolations: string[] = [];
  const start = (parameters?: Record<string, string>) => flow.start(parameters);
  const tokens = (checks: FlowChecks) => flow.tokens(checks);

  before(async () => {
    await rp.start();
    inbox = await startInbox();
    deploy = await deployment('e2e_passkeys', {
      host: 'localhost',
      settings: { GATEHOUSE_MFA_REQUIRED_ROLES: 'finance', HOST: '127.0.0.1', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'no-reply@example.com' },
    });
    gatehouse = await deploy.start();
    userId = (await gatehouse.services.accounts.createUser({ username: 'grace', password: PASSWORD, roles: ['finance'], email: 'grace@example.com', emailVerified: true })).id;
    const app = await webApp(gatehouse, deploy.issuer, rp);
    ({ browser, context, page, cspViolations, authenticator, flow } = await passkeyBrowser(app, rp));
  });

  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await rp.close();
    await deploy?.drop();
    await inbox?.close();
  });

  noCspViolationsAfterEach(() => cspViolations);

  it('enrols a passkey instead of an app right after the password, then shows recovery codes', async () => {
    const checks = await start();
    await submitPassword(page, 'grace');
    await page.waitForSelector('form.passkey:not([hidden])');
    await expectAccessible(page, 'passkey-enrol');
    await page.fill('#passkey-name', 'Laptop');
    await page.click('[data-passkey=register]');
    await page.waitForSelector('.recovery-codes');
    expect(await page.locator('.recovery-codes li').count()).to.equal(10);
    await page.click('a.button.primary');
    const claims = await tokens(checks);
    expect(claims.amr).to.deep.equal(['pwd', 'hwk', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);
    const factors = await gatehouse.services.passkeys.list(userId);
    expect(factors.map((f) => f.name)).to.deep.equal(['Laptop']);
  });

  it('uses the passkey as the second factor after the password', async () => {
    await context.clearCookies();
    // Nobody picks the passkey the sign-in page offers in autofill: the password is typed.
    await presence(false);
    const checks = await start();
    await submitPassword(page, 'grace');
    await page.waitForSelector('form.passkey:not([hidden]) [data-passkey=authenticate]');
    await expectAccessible(page, 'passkey-second-factor');
    await presence(true);
    await page.click('[data-passkey=authenticate]');
    const claims = await tokens(checks);
    expect(claims.amr).to.deep.equal(['pwd', 'hwk', 'mfa']);
    expect((await gatehouse.services.passkeys.list(userId))[0]!.lastUsedAt).to.be.instanceOf(Date);
  });

  it('signs in without a password through autofill (discoverable credential, user verified = two factors)', async () => {
    await context.clearCookies();
    // The browser offers the passkey in the username field (conditional UI); the authenticator picks it.
    await gatehouse.flushBatchedWrites();
    const before = new Date();
    const checks = await start();
    const claims = await tokens(checks);
    expect(claims.sub).to.equal(userId);
    expect(claims.amr).to.deep.equal(['hwk', 'mfa']);
    expect(claims.acr).to.equal(ACR.multiFactor);
    // A passwordless sign-in is a sign-in: it is the user's last one now (the password ones came before `before`).
    await gatehouse.flushBatchedWrites();
    const shown = await gatehouse.services.users.withLastSignIn((await gatehouse.services.accounts.findById(userId))!);
    expect(shown.lastLoginAt?.getTime() ?? 0, 'last sign-in after a passwordless one').to.be.at.least(before.getTime());
  });

  it('a password reset takes the passkey as the second factor before the new password', async () => {
    const agent = new UserAgent();
    const [forgot] = formsOf(await (await agent.request(`${deploy.issuer}/password/forgot`)).text());
    await agent.postForm(new URL(forgot!.action, deploy.issuer).toString(), { ...forgot!.fields, login: 'grace' });
    const link = /http:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')![0];
    await presence(false);
    await page.goto(link);
    await page.waitForSelector('form.passkey:not([hidden]) [data-passkey=authenticate]');
    await expectAccessible(page, 'password-reset-passkey');
    expect(await page.locator('#password').count(), 'no password form before the factor').to.equal(0);
    await presence(true);
    await page.click('[data-passkey=authenticate]');
    await page.waitForSelector('#password');
    await page.fill('#password', 'a brand new passphrase 42');
    await page.fill('#confirm', 'a brand new passphrase 42');
    await page.click('button.primary');
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();
    await inbox.next();
    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [userId], types: ['user.password_reset'], limit: 10 });
    expect(events.map((event) => event.details.secondFactor)).to.deep.equal(['passkey']);
  });

  it('refuses a passkey an operator removed', async () => {
    const [passkey] = await gatehouse.services.passkeys.list(userId);
    expect(await gatehouse.services.passkeys.remove(userId, passkey!.id)).to.equal(true);
    await context.clearCookies();
    await start();
    await page.waitForSelector('#login-error');
    await screenshot(page, 'passkey-refused');
    expect(await page.textContent('#login-error')).to.contain('That passkey did not work here');
    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [userId], limit: 100 });
    const passkeyEvents = events.filter((event) => event.details.method === 'passkey').map((event) => event.type);
    expect(passkeyEvents).to.include.members(['mfa.enrolled', 'mfa.verified']);
    // The removed passkey belongs to nobody any more: its failure is audited without a user.
    const { events: failures } = await gatehouse.services.audit.query({ types: ['mfa.failure'], limit: 10 });
    expect(failures.some((event) => event.details.method === 'passkey' && event.details.reason === 'passkey_refused')).to.equal(true);
  });
});
