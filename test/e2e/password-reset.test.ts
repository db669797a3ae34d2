import { expect } from 'chai';
import mongoose from 'mongoose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { REUSE_REFUSALS_PER_LINK } from '../../src/accounts/password-resets.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { inLanguage, launchChromium, screenshot, seriousViolations } from './browser.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';

const linkIn = (text: string | undefined) => /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];

/** GET the forgot page, then POST it as a browser would; status and body of the answer. */
async function askForReset(issuer: string, login: string): Promise<{ status: number; body: string }> {
  const agent = new UserAgent();
  const page = await agent.request(`${issuer}/password/forgot`);
  const [form] = formsOf(await page.text());
  const response = await agent.postForm(new URL(form!.action, issuer).toString(), { ...form!.fields, login });
  return { status: response.status, body: await response.text() };
}

describe('password reset by email (openid-client, Chromium, a real SMTP server)', () => {
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let web: oidc.Configuration;
  let browser: Browser;
  let email: string;

  before(async () => {
    inbox = await startInbox();
    deploy = await deployment('password_reset', { settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' } });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    email = (await gatehouse.services.accounts.findById(cast.user.id))!.email!;
    web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ locale: 'en' });
    return context.newPage();
  }

  it('resets from the sign-in page through the emailed link: old sessions end, refresh tokens die, the link works once', async () => {
    // An existing session and a refresh token from before the reset.
    const agent = new UserAgent();
    const before = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid offline_access', prompt: 'consent' });
    const signedIn = await signIn(agent, before.url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const oldTokens = await oidc.authorizationCodeGrant(web, signedIn.callback, before.checks);
    expect(oldTokens.refresh_token).to.be.a('string');

    const page = await newPage();
    const request = await authorizationRequest(web, REDIRECT_URI);
    await page.goto(request.url.toString());
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL(/\/password\/forgot\?interaction=[A-Za-z0-9_-]+$/);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'password-forgot-en');
    await page.getByLabel('Username or email').fill(cast.user.username);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await screenshot(page, 'password-forgot-sent-en');

    const mail = await inbox.next();
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.equal(email);
    expect(mail.subject).to.equal('Reset your password');
    const link = linkIn(mail.text);
    expect(link, 'the plain-text part carries the link').to.be.a('string');
    expect(mail.html).to.contain(`href="${link}"`);
    expect(link!.startsWith(`${deploy.issuer}/password/reset/`)).to.equal(true);

    await page.goto(link!);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'password-reset-en');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill('something else entirely');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.contain('differ');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();
    await screenshot(page, 'password-reset-done-en');

    const notice = await inbox.next();
    expect(notice.subject).to.equal('Your password was changed');

    // Everything from before is gone.
    const refresh = await oidc.refreshTokenGrant(web, oldTokens.refresh_token!).then(
      () => 'accepted',
      (error: unknown) => (error as { error?: string }).error,
    );
    expect(refresh).to.equal('invalid_grant');
    const again = await authorizationRequest(web, REDIRECT_URI);
    const old = await signIn(agent, again.url.toString(), REDIRECT_URI, { username: cast.user.username, password: NEW_PASSWORD });
    expect(old.sawLogin, 'the old session is dead: the form is shown again').to.equal(true);
    expect((await oidc.authorizationCodeGrant(web, old.callback, again.checks)).claims()!.sub).to.equal(cast.user.id);
    const withOld = await signIn(new UserAgent(), (await authorizationRequest(web, REDIRECT_URI)).url.toString(), REDIRECT_URI, { username: cast.user.username, password: PASSWORD }).catch(() => undefined);
    expect(withOld?.callback.searchParams.get('code') ?? null, 'the old password no longer works').to.equal(null);

    // The link worked once.
    const reused = await page.goto(link!);
    expect(reused!.status()).to.equal(400);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('This link no longer works');
    await screenshot(page, 'password-reset-invalid-en');
    await page.context().close();
  });

  /**
   * A reset link mailed to the user while the policy remembers two passwords and refuses the
   * email address, the user's password being NEW_PASSWORD (the first test's choice, set here too
   * so that each test also runs on its own); the policy is put back afterwards.
   */
  async function withRememberedPassword(test: (link: string) => Promise<void>): Promise<void> {
    const policy = gatehouse.services.runtimeSettings.passwordPolicy;
    await gatehouse.services.accounts.setPassword(cast.user.id, NEW_PASSWORD);
    await policy.update({ password_history: 2, password_not_email: true });
    try {
      expect((await askForReset(deploy.issuer, email)).status).to.equal(200);
      await test(linkIn((await inbox.next()).text)!);
    } finally {
      await policy.update({ password_history: null, password_not_email: null });
    }
  }

  it('refuses a new password that breaks the policy (history included) in the reader\'s language, its numbers in the form each asks for, without using up the link', async () => {
    await withRememberedPassword(async (link) => {
      const agent = new UserAgent();
      agent.cookies.set('gatehouse.lang', 'ru');
      const page = await (await agent.request(link)).text();
      expect(page).to.include('Требования: не менее 8 символов; не совпадает с адресом почты; не совпадает ни с одним из 2 последних паролей.');
      const form = formsOf(page)[0]!;
      const action = new URL(form.action, link).toString();
      const current = await agent.postForm(action, { ...form.fields, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      expect(current.status).to.equal(400);
      expect(await current.text()).to.include('Пароль не соответствует правилам: не совпадает ни с одним из 2 последних паролей. Выберите другой.');
      const again = formsOf(await (await agent.request(link)).text())[0];
      expect(again, 'the link still works').to.not.equal(undefined);
      const address = await agent.postForm(action, { ...again!.fields, password: email.toUpperCase(), confirm: email.toUpperCase() });
      expect(await address.text()).to.include('не совпадает с адресом почты');

      // The policy's numbers in the form each asks for (21 символа, 22 символов, одна цифра, 2 цифр), set at runtime.
      const policy = gatehouse.services.runtimeSettings.passwordPolicy;
      try {
        await policy.update({ password_min_length: 21, password_digits: 1 });
        expect(await (await agent.request(link)).text()).to.include('Требования: не менее 21 символа; хотя бы одна цифра; не совпадает с адресом почты;');
        await policy.update({ password_min_length: 22, password_digits: 2 });
        const strict = formsOf(await (await agent.request(link)).text())[0]!;
        const short = await agent.postForm(action, { ...strict.fields, password: 'short', confirm: 'short' });
        expect(short.status).to.equal(400);
        expect(await short.text()).to.include('Пароль не соответствует правилам: не менее 22 символов; не менее 2 цифр. Выберите другой.');
      } finally {
        await policy.update({ password_min_length: null, password_digits: null });
      }
    });
  });

  it('uses the link up after a few refusals of a remembered password (no oracle for the current one), not for the other rules', async () => {
    await withRememberedPassword(async (link) => {
      const agent = new UserAgent();
      const post = async (password: string) => {
        const form = formsOf(await (await agent.request(link)).text())[0]!;
        return agent.postForm(new URL(form.action, link).toString(), { ...form.fields, password, confirm: password });
      };
      // Other rules never count: they tell nothing about the account.
      for (let i = 0; i < REUSE_REFUSALS_PER_LINK + 1; i += 1) expect((await post(email)).status).to.equal(400);
      for (let i = 0; i < REUSE_REFUSALS_PER_LINK; i += 1) {
        const refused = await post(NEW_PASSWORD);
        expect(refused.status).to.equal(400);
        expect(await refused.text()).to.include('one of your last');
      }
      const form = formsOf(await (await agent.request(link)).text())[0]!;
      const last = await agent.postForm(new URL(form.action, link).toString(), { ...form.fields, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      expect(last.status).to.equal(400);
      expect(await last.text()).to.include('This link no longer works');
      expect((await agent.request(link)).status, 'the link is used up').to.equal(400);
      expect((await gatehouse.services.accounts.authenticate(cast.user.username, NEW_PASSWORD, '203.0.113.9')).ok, 'the password is unchanged').to.equal(true);
    });
  });

  it('refuses an expired link', async () => {
    const answer = await askForReset(deploy.issuer, email);
    expect(answer.status).to.equal(200);
    const link = linkIn((await inbox.next()).text);
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      const moved = await connection.db!.collection('password_resets').updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
      expect(moved.modifiedCount).to.be.greaterThan(0);
    } finally {
      await connection.close();
    }
    const response = await new UserAgent().request(link!);
    expect(response.status).to.equal(400);
    const page = await response.text();
    expect(page).to.contain('This link no longer works');
    // The page's one way on is its main action, drawn as such (it was a secondary button).
    expect(page).to.match(/<a class="button primary" href="[^"]*\/password\/forgot"/);
  });

  it('answers the same for an existing and an unknown account, and mails only the existing one', async () => {
    const received = inbox.received.length;
    const known = await askForReset(deploy.issuer, cast.user.username.toUpperCase());
    const unknown = await askForReset(deploy.issuer, 'nobody-at-all@example.com');
    expect(unknown.status).to.equal(known.status).and.to.equal(200);
    expect(unknown.body).to.equal(known.body);
    await inbox.next();
    expect(inbox.received.length).to.equal(received + 1);
  });

  it('is localized in every language', async () => {
    // One tab for the three languages (a browser context costs Chromium about a CPU-second): each
    // visit asks for one language only, as a browser set to it does (Accept-Language), without a
    // cookie of the visit before.
    const page = await (await browser.newContext()).newPage();
    for (const locale of ['ru', 'zh-CN', 'ko']) {
      await inLanguage(page, locale);
      const response = await page.goto(`${deploy.issuer}/password/forgot`);
      expect(response!.status()).to.equal(200);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await seriousViolations(page)).to.deep.equal([]);
      await screenshot(page, `password-forgot-${locale}`);
    }
    await page.context().close();
  });
});

describe('password reset without SMTP', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;

  before(async () => {
    deploy = await deployment('password_reset_off', { redis: false });
    gatehouse = await deploy.start();
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('says on the page that reset by email is not available, and offers no form', async () => {
    const response = await new UserAgent().request(`${deploy.issuer}/password/forgot`);
    expect(response.status).to.equal(200);
    const html = await response.text();
    expect(html).to.contain('Password reset by email is not available on this server');
    expect(formsOf(html).filter((form) => form.action.includes('/password/'))).to.deep.equal([]);
  });
});
