import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { randomIp } from '../helpers/accounts.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, givePasskeyRecord, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { inLanguage, launchChromium, screenshot, seriousViolations } from './browser.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';
const linkIn = (text: string | undefined) => /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];

/**
 * A password reset for a user with a second factor: the emailed link alone never sets the
 * password; the code (or a recovery code) comes first. A finished reset lifts sign-in lockouts.
 */
describe('password reset with a second factor, and lockouts (real SMTP server, real stores)', function () {
  this.timeout(60_000);
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let now = new Date('2026-05-04T09:00:05Z');

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('password_reset_mfa', {
      settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' },
      secondFactorClock: () => now,
    });
    gatehouse = await deploy.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  /** A user with an email and an authenticator app; resolves to its TOTP secret and recovery codes. */
  async function userWithApp(name: string) {
    const user = await gatehouse.services.accounts.createUser({ username: name, password: PASSWORD, email: `${name}@example.com`, emailVerified: true });
    const secret = (await gatehouse.services.factors.beginTotp(user.id)).secret;
    const confirmed = await gatehouse.services.factors.confirmTotp(user.id, totpCode(secret, now), '192.0.2.1');
    if (!confirmed.ok) throw new Error('enrolment failed');
    await gatehouse.services.accounts.setSecondFactor(user.id, true);
    now = new Date(now.getTime() + 60_000);
    return { user, secret, codes: confirmed.recoveryCodes };
  }

  async function resetLinkFor(login: string): Promise<string> {
    const agent = new UserAgent();
    const page = await agent.request(`${deploy.issuer}/password/forgot`);
    const [form] = formsOf(await page.text());
    await agent.postForm(new URL(form!.action, deploy.issuer).toString(), { ...form!.fields, login });
    const link = linkIn((await inbox.next()).text);
    expect(link).to.be.a('string');
    return link!;
  }

  async function page(agent: UserAgent, url: string) {
    const response = await agent.request(url);
    const html = await response.text();
    return { status: response.status, html, forms: formsOf(html) };
  }

  async function passwordUnchanged(userId: string, since: Date | null) {
    expect((await gatehouse.services.accounts.findById(userId))!.passwordChangedAt?.getTime()).to.equal(since?.getTime());
  }

  it('asks for the authenticator code before the new password; a forged password post changes nothing', async () => {
    const { user, secret } = await userWithApp('mfa-reset-totp');
    const changedAt = (await gatehouse.services.accounts.findById(user.id))!.passwordChangedAt;
    const link = await resetLinkFor(user.username);
    const agent = new UserAgent();
    const first = await page(agent, link);
    expect(first.status).to.equal(200);
    expect(first.html).to.contain('Confirm it is you');
    // Imported Keycloak authenticators may show 8 digits: the hint names no length.
    expect(first.html).to.contain('The code your authenticator app shows for this account').and.not.to.contain('6-digit');
    expect(first.html).not.to.contain('name="password"');
    const codeForm = first.forms.find((form) => form.action.endsWith('/verify'))!;
    expect(codeForm, 'the code form').to.not.equal(undefined);

    // The password form posted straight away (skipping the factor): the factor is asked for again.
    const forged = await agent.postForm(link, { csrf: codeForm.fields.csrf!, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(forged.status).to.equal(200);
    expect(await forged.text()).to.contain('Confirm it is you');
    await passwordUnchanged(user.id, changedAt);

    const wrongCode = totpCode(secret, now) === '000000' ? '111111' : '000000';
    const wrong = await agent.postForm(new URL(codeForm.action, link).toString(), { ...codeForm.fields, code: wrongCode });
    expect(wrong.status).to.equal(400);
    expect(await wrong.text()).to.contain('That code did not work');

    const right = await agent.postForm(new URL(codeForm.action, link).toString(), { ...codeForm.fields, code: totpCode(secret, now) });
    expect(right.status).to.equal(303);
    expect(right.headers.get('location')).to.equal(new URL(link).pathname);
    const form = await page(agent, link);
    expect(form.html).to.contain('Choose a new password');
    const [passwordForm] = form.forms;
    const done = await agent.postForm(new URL(passwordForm!.action, link).toString(), { ...passwordForm!.fields, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(done.status).to.equal(200);
    expect(await done.text()).to.contain('Password changed');
    expect((await inbox.next()).subject).to.equal('Your password was changed');
    expect((await page(new UserAgent(), link)).status, 'the link worked once').to.equal(400);

    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [user.id], types: ['user.password_reset'], limit: 10 });
    expect(events).to.have.length(1);
    expect(events[0]!.details).to.deep.include({ secondFactor: 'totp' });
  });

  // This deployment's issuer is http://127.0.0.1:PORT: WebAuthn cannot work there (its RP ID must be a domain).
  it('on an issuer at an IP address offers no passkey: a passkey-only user is told why, and a passkey posted anyway is refused saying so', async () => {
    const unavailable = 'Passkeys cannot be used here: this server is reached by an IP address';
    const only = await gatehouse.services.accounts.createUser({ username: 'mfa-reset-passkey-only', password: PASSWORD, email: 'mfa-reset-passkey-only@example.com', emailVerified: true });
    await givePasskeyRecord(deploy, gatehouse, only.id);
    const onlyPage = await page(new UserAgent(), await resetLinkFor(only.username));
    expect(onlyPage.html).to.contain('Confirm it is you').and.contain(unavailable);
    expect(onlyPage.html).to.not.contain('data-passkey').and.not.contain('name="password"');

    const { user } = await userWithApp('mfa-reset-app-and-passkey');
    await givePasskeyRecord(deploy, gatehouse, user.id);
    const link = await resetLinkFor(user.username);
    const agent = new UserAgent();
    const first = await page(agent, link);
    expect(first.html).to.not.contain('data-passkey').and.not.contain(unavailable);
    const codeForm = first.forms.find((form) => form.action.endsWith('/verify'))!;
    const posted = await agent.postForm(new URL(codeForm.action.replace(/\/verify$/, '/passkey'), link).toString(), { ...codeForm.fields, response: '{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}' });
    expect(posted.status).to.equal(400);
    expect(await posted.text()).to.contain(unavailable).and.not.contain('That passkey did not work here');
  });

  it('takes a recovery code instead of the app, once', async () => {
    const { user, codes } = await userWithApp('mfa-reset-recovery');
    const link = await resetLinkFor(`${user.username}@example.com`);
    const agent = new UserAgent();
    const codeForm = (await page(agent, link)).forms.find((form) => form.action.endsWith('/verify'))!;
    const passed = await agent.postForm(new URL(codeForm.action, link).toString(), { ...codeForm.fields, code: codes[0]! });
    expect(passed.status).to.equal(303);
    expect((await page(agent, link)).html).to.contain('Choose a new password');
    expect((await gatehouse.services.factors.status(user.id)).recoveryCodesLeft, 'the recovery code is used up').to.equal(9);
  });

  it('lifts the lockouts of the account: the new password works at once from the locked address', async () => {
    const user = await gatehouse.services.accounts.createUser({ username: 'locked-out', password: PASSWORD, email: 'locked-out@example.com', emailVerified: true });
    // A documentation address of its own: the shared per-IP counters of other suites stay untouched.
    const ip = randomIp();
    for (let attempt = 0; attempt < 5; attempt += 1) await gatehouse.services.accounts.authenticate(user.username, 'not the password', ip);
    const locks = (await gatehouse.services.accounts.listLockouts()).filter((lock) => lock.subject === user.id);
    expect(locks, 'five wrong passwords lock the account from this address').to.have.length.greaterThan(0);
    expect((await gatehouse.services.accounts.authenticate(user.username, PASSWORD, ip)).ok, 'even the right password is refused while locked').to.equal(false);

    const link = await resetLinkFor(user.username);
    const agent = new UserAgent();
    const [form] = (await page(agent, link)).forms;
    const done = await agent.postForm(new URL(form!.action, link).toString(), { ...form!.fields, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(await done.text()).to.contain('Password changed');
    await inbox.next();
    expect((await gatehouse.services.accounts.listLockouts()).filter((lock) => lock.subject === user.id)).to.deep.equal([]);
    expect((await gatehouse.services.accounts.authenticate(user.username, NEW_PASSWORD, ip)).ok, 'the new password works at once from that address').to.equal(true);

    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [user.id], types: ['user.password_reset'], limit: 10 });
    expect(events[0]!.details).to.deep.include({ secondFactor: null });
    expect(events[0]!.details.lockoutsCleared).to.be.greaterThan(0);
  });

  it('shows the second-factor page accessibly in every language', async () => {
    const { user } = await userWithApp('mfa-reset-pages');
    // One tab for the four languages (a browser context costs Chromium about a CPU-second): each
    // link is opened asking for one language only, as a browser set to it does (Accept-Language),
    // without a cookie of the link before.
    const context = await browser.newContext();
    const tab = await context.newPage();
    for (const [index, locale] of ['en', 'ru', 'zh-CN', 'ko'].entries()) {
      // Username and email in turn: each typed login gets 3 emails an hour.
      const link = await resetLinkFor(index % 2 === 0 ? user.username : user.email!);
      await inLanguage(tab, locale);
      const response = await tab.goto(link);
      expect(response!.status()).to.equal(200);
      expect(await tab.getAttribute('html', 'lang')).to.equal(locale);
      expect(await tab.locator('#code').count()).to.equal(1);
      expect(await seriousViolations(tab)).to.deep.equal([]);
      await screenshot(tab, `password-reset-mfa-${locale}`);
    }
    await context.close();
  });
});
