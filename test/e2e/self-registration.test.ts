import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Clock } from '../../src/clock.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { deployment, instanceForSuite, PASSWORD, type Deployment, type SuiteInstance } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { expectAccessible, freshTab, launchChromium, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { authorizationRequest, codeFlow, submitPassword, webApp } from './sign-in.ts';

const NEW_PASSWORD = 'my own passphrase 2026';
const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
const verifyLinkIn = (text: string | undefined) => /https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]{43}/.exec(text ?? '')?.[0];

/** The first page of a fresh authorization request: the sign-in page of a new interaction. */
async function signInPage(agent: UserAgent, app: oidc.Configuration, redirectUri: string): Promise<string> {
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const started = await agent.request(url.toString());
  return new URL(started.headers.get('location')!, url).toString();
}

/** Registers through the hosted form with a plain HTTP agent; the answer's status and body. */
async function register(agent: UserAgent, interactionUrl: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
  const page = await agent.request(`${interactionUrl}/register`);
  expect(page.status).to.equal(200);
  const form = formsOf(await page.text()).find((f) => f.action.endsWith('/register'))!;
  const response = await agent.postForm(new URL(form.action, interactionUrl).toString(), { ...form.fields, ...fields });
  return { status: response.status, body: await response.text() };
}

/**
 * The suite's tab as a new browser set to `locale` would show the pages: freshTab (no cookie, no
 * storage; `previous` closed) asking for `locale` in Accept-Language, which is all the hosted
 * pages read of a browser's language. One at a time: contexts per locale side by side cost
 * Chromium's browser process more than the pages' own rendering.
 */
async function tabIn(browser: Browser, previous: BrowserContext | undefined, locale: string): Promise<{ context: BrowserContext; page: Page }> {
  const tab = await freshTab(browser, previous);
  await tab.context.setExtraHTTPHeaders({ 'accept-language': locale });
  return tab;
}

/** A deployment that mails through a real SMTP inbox, its "Notes" app and the shared Chromium. */
interface MailingSuite {
  readonly inbox: Inbox;
  readonly deploy: Deployment;
  readonly gatehouse: RunningGatehouse;
  readonly app: oidc.Configuration;
  readonly browser: Browser;
}

/** Starts a MailingSuite (the inbox first: `settings` gets its URL); stopMailing() ends it. */
async function startMailing(rp: RelyingPartyServer, label: string, settings: (smtpUrl: string) => Record<string, string>, options: { scope: string; clock?: Clock }): Promise<MailingSuite> {
  const started: { -readonly [K in keyof MailingSuite]?: MailingSuite[K] } = {};
  try {
    await rp.start();
    started.inbox = await startInbox();
    started.deploy = await deployment(label, { settings: settings(started.inbox.url), ...(options.clock === undefined ? {} : { clock: options.clock }) });
    started.gatehouse = await started.deploy.start();
    started.app = await webApp(started.gatehouse, started.deploy.issuer, rp, { displayName: 'Notes', scope: options.scope });
    started.browser = await launchChromium();
    return started as MailingSuite;
  } catch (error) {
    await stopMailing(rp, started);
    throw error;
  }
}

async function stopMailing(rp: RelyingPartyServer, suite: Partial<MailingSuite>): Promise<void> {
  await suite.browser?.close();
  await suite.gatehouse?.close();
  await rp.close();
  await suite.deploy?.drop();
  await suite.inbox?.close();
}

describe('self-registration and email verification (Chromium, openid-client, a real SMTP server)', function () {
  this.timeout(90_000);
  const rp = new RelyingPartyServer();
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let app: oidc.Configuration;
  let clockOffset = 0;
  let reused: BrowserContext | undefined;

  before(async () => {
    ({ inbox, deploy, gatehouse, app, browser } = await startMailing(
      rp,
      'self_registration',
      (smtpUrl) => ({
        GATEHOUSE_SMTP_URL: smtpUrl,
        GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>',
        GATEHOUSE_SELF_REGISTRATION: 'true',
        GATEHOUSE_SELF_REGISTRATION_DOMAINS: 'example.com, example.org',
      }),
      { scope: 'openid email profile', clock: { now: () => Date.now() + clockOffset } },
    ));
  });
  after(() => stopMailing(rp, { inbox, deploy, gatehouse, app, browser }));

  it('registers from the sign-in page, confirms the address from the email, and signs in to the app', async () => {
    const { context, page } = await tabIn(browser, reused, 'en');
    reused = context;
    const flow = codeFlow(page, app, rp);
    const checks = await flow.start({ scope: 'openid email profile' });
    await expectAccessible(page, 'login-with-register-en');
    await page.getByRole('link', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Create account' }).waitFor();
    await expectAccessible(page, 'register-en');

    // What was typed comes back with the error, never the password.
    await page.getByLabel('Your name (optional)').fill('Nadia Newcomer');
    await page.getByLabel('Email').fill('nadia@elsewhere.net');
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.contain('example.com, example.org');
    await expectAccessible(page, 'register-error-en');
    expect(await page.getByLabel('Email').inputValue()).to.equal('nadia@elsewhere.net');

    await page.getByLabel('Email').fill('nadia@example.com');
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await expectAccessible(page, 'register-sent-en');

    const mail = await inbox.next();
    expect(mail.subject).to.equal('Confirm your email address');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.equal('nadia@example.com');
    const link = verifyLinkIn(mail.text);
    expect(link, 'the plain-text part carries the link').to.be.a('string');
    expect(mail.html).to.contain(`href="${link}"`);
    expect(await gatehouse.services.accounts.findByLogin('nadia@example.com'), 'no account before the address is confirmed').to.equal(undefined);

    await page.goto(link!);
    await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
    await expectAccessible(page, 'email-verify-en');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Your account is ready' }).waitFor();
    await expectAccessible(page, 'registration-done-en');
    await page.getByRole('link', { name: 'Continue' }).click();

    // Back in the same sign-in: the new account signs in and the app gets its tokens.
    await page.getByLabel('Username or email').fill('nadia@example.com');
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const claims = await flow.tokens(checks);
    expect(claims.email).to.equal('nadia@example.com');
    expect(claims.email_verified).to.equal(true);
    expect(claims.name).to.equal('Nadia Newcomer');
    const user = (await gatehouse.services.accounts.findById(claims.sub))!;
    expect(user.selfRegistered).to.equal(true);
    expect(user.username).to.equal('nadia');

    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [user.id], limit: 20 });
    expect(events.map((event) => event.type)).to.include.members(['user.registered', 'user.email_verified']);
  });

  it('answers a taken address exactly like a new one, and tells the owner instead', async () => {
    const owner = await gatehouse.services.accounts.createUser({ username: 'olga', password: PASSWORD, email: 'olga@example.com', emailVerified: true, name: 'Olga' });
    const fields = (email: string) => ({ name: 'Someone', email, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const agentA = new UserAgent();
    const taken = await register(agentA, await signInPage(agentA, app, `${rp.origin}/cb`), fields('OLGA@example.com'));
    const agentB = new UserAgent();
    const fresh = await register(agentB, await signInPage(agentB, app, `${rp.origin}/cb`), fields('pavel@example.com'));
    expect(taken.status).to.equal(200);
    expect(fresh.status).to.equal(taken.status);
    // Same page apart from the address typed, the interaction's id and the per-request tokens.
    const shape = (body: string) =>
      body
        // The address with its line-break points (views' breakable(): after the @ and each inner dot).
        .replace(/OLGA@(<wbr>)?example\.(<wbr>)?com|pavel@(<wbr>)?example\.(<wbr>)?com/g, 'EMAIL')
        .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/UID')
        .replace(/value="[^"]{20,}"/g, 'value="TOKEN"')
        .replace(/<code>[0-9a-f-]{36}<\/code>/g, '');
    expect(shape(fresh.body)).to.equal(shape(taken.body));

    const mails = [await inbox.next(), await inbox.next()];
    const toOwner = mails.find((mail) => mail.subject === 'You already have an account')!;
    expect(toOwner, 'the owner is told').to.not.equal(undefined);
    expect(toOwner.text).to.contain('Hello Olga').and.to.contain('/password/forgot');
    expect(mails.find((mail) => mail.subject === 'Confirm your email address')!.to).to.not.equal(undefined);
    const unchanged = (await gatehouse.services.accounts.findById(owner.id))!;
    expect(unchanged.name).to.equal('Olga');
    expect(unchanged.passwordChangedAt?.getTime()).to.equal(owner.passwordChangedAt?.getTime());
    await gatehouse.audit.flush();
    const { events } = await gatehouse.services.audit.query({ users: [owner.id], types: ['user.registration_existing_email'], limit: 5 });
    expect(events).to.have.length(1);
  });

  it('uses a confirmation link once, and refuses it once expired (storage clock moved, no waiting)', async () => {
    const agent = new UserAgent();
    await register(agent, await signInPage(agent, app, `${rp.origin}/cb`), { name: '', email: 'quinn@example.org', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const link = verifyLinkIn((await inbox.next()).text)!;
    const [form] = formsOf(await (await agent.request(link)).text());
    const first = await agent.postForm(new URL(form!.action, link).toString(), form!.fields);
    expect(first.status).to.equal(200);
    expect(await first.text()).to.contain('Your account is ready');
    const again = await agent.postForm(new URL(form!.action, link).toString(), form!.fields);
    expect(again.status).to.equal(400);
    expect(await again.text()).to.contain('This link no longer works');
    expect((await agent.request(link)).status).to.equal(400);

    const later = new UserAgent();
    await register(later, await signInPage(later, app, `${rp.origin}/cb`), { name: '', email: 'rosa@example.org', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const expiring = verifyLinkIn((await inbox.next()).text)!;
    expect((await later.request(expiring)).status, 'fresh').to.equal(200);
    clockOffset = 24 * 3600 * 1000 + 1000;
    try {
      const expired = await later.request(expiring);
      expect(expired.status).to.equal(400);
      expect(await expired.text()).to.contain('This link no longer works');
    } finally {
      clockOffset = 0;
    }
    expect(await gatehouse.services.accounts.findByLogin('rosa@example.org')).to.equal(undefined);
  });

  it('lists the password policy under the field and names the rules a password breaks, in every language (axe-clean)', async () => {
    const policy = gatehouse.services.runtimeSettings.passwordPolicy;
    await policy.update({ password_min_length: 12, password_digits: 2, password_uppercase: 1, password_special: 1, password_not_email: true });
    try {
      for (const locale of LOCALES) {
        const { context, page } = await tabIn(browser, reused, locale);
        reused = context;
        await page.goto((await authorizationRequest(app, rp)).url);
        await page.click('a[href$="/register"]');
        await page.waitForSelector('#email');
        const hint = await page.locator('#password-hint').innerText();
        expect(hint, locale).to.include('12');
        await page.fill('#email', `weak-${locale}@example.com`);
        await page.fill('#password', 'weakpassword');
        await page.fill('#confirm', 'weakpassword');
        await page.click('button.primary');
        await page.getByRole('alert').waitFor();
        const alert = await page.getByRole('alert').innerText();
        expect(alert, locale).to.include('2');
        expect(alert, locale).to.not.match(/password_policy\.|\{n\}/);
        if (locale === 'en') expect(alert).to.equal('This password does not meet the password policy: at least 2 digits; at least one uppercase letter; at least one special character (not a letter or digit). Choose another one.');
        await expectAccessible(page, `register-policy-${locale}`);
      }
    } finally {
      await policy.update({ password_min_length: null, password_digits: null, password_uppercase: null, password_special: null, password_not_email: null });
    }
  });

  it('shows the registration pages in every language', async () => {
    for (const locale of LOCALES) {
      const { context, page } = await tabIn(browser, reused, locale);
      reused = context;
      await page.goto((await authorizationRequest(app, rp)).url);
      await page.click('a[href$="/register"]');
      await page.waitForSelector('#email');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(page, `register-${locale}`);
      await page.fill('#email', `sam-${locale}@example.com`);
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#confirm', NEW_PASSWORD);
      await page.click('button.primary');
      await page.waitForSelector('a.button.secondary');
      await expectAccessible(page, `register-sent-${locale}`);
      const link = verifyLinkIn((await inbox.next()).text)!;
      await page.goto(link);
      await expectAccessible(page, `email-verify-${locale}`);
      await page.click('button.primary');
      await page.waitForSelector('a.button.primary');
      await expectAccessible(page, `registration-done-${locale}`);
    }
  });
});

describe('email verification of existing users (GATEHOUSE_REQUIRE_VERIFIED_EMAIL=all, admin API)', function () {
  this.timeout(60_000);
  const rp = new RelyingPartyServer();
  let inbox: Inbox;
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let app: oidc.Configuration;
  let reused: BrowserContext | undefined;

  before(async () => {
    ({ inbox, deploy, gatehouse, app, browser } = await startMailing(
      rp,
      'email_verification',
      (smtpUrl) => ({ GATEHOUSE_SMTP_URL: smtpUrl, GATEHOUSE_MAIL_FROM: 'no-reply@example.com', GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'all' }),
      { scope: 'openid email' },
    ));
  });
  after(() => stopMailing(rp, { inbox, deploy, gatehouse, app, browser }));

  it('mails a link when an operator creates a user; the sign-in waits for it, resends it, then continues', async () => {
    const admin = await adminClient(gatehouse);
    const token = await admin.token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'tess', email: 'tess@example.com', password: PASSWORD });
    expect(created.status).to.equal(201);
    expect(created.body.email_verified).to.equal(false);
    const first = await inbox.next();
    expect(first.subject).to.equal('Confirm your email address');
    expect(first.text).to.contain('Hello tess');

    const { context, page } = await tabIn(browser, reused, 'en');
    reused = context;
    const flow = codeFlow(page, app, rp);
    const checks = await flow.start({ scope: 'openid email' });
    await page.getByLabel('Username or email').fill('tess');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Confirm your email first' }).waitFor();
    await expectAccessible(page, 'verify-email-en');

    await page.getByRole('button', { name: 'I have confirmed it — continue' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.contain('not confirmed yet');

    await page.getByRole('button', { name: 'Send the link again' }).click();
    await page.locator('.notice').waitFor();
    const resent = await inbox.next();
    const oldLink = verifyLinkIn(first.text)!;
    const link = verifyLinkIn(resent.text)!;
    expect(link).to.not.equal(oldLink);
    expect((await new UserAgent().request(oldLink)).status, 'a resend retires the earlier link').to.equal(400);

    const tab = await context.newPage();
    await tab.goto(link);
    await tab.getByRole('button', { name: 'Confirm' }).click();
    await tab.getByRole('heading', { name: 'Email confirmed' }).waitFor();
    await screenshot(tab, 'email-verified-en');
    await tab.close();

    await page.getByRole('button', { name: 'I have confirmed it — continue' }).click();
    expect((await flow.tokens(checks)).email_verified).to.equal(true);
  });

  it('lets an operator resend the link, and refuses when there is nothing to verify', async () => {
    const admin = await adminClient(gatehouse, 'ops2');
    const token = await admin.token();
    const user = await gatehouse.services.accounts.createUser({ username: 'uma', email: 'uma@example.com', password: PASSWORD });
    const sent = await callAdmin(gatehouse.url, token, 'POST', `/users/${user.id}/email-verification`);
    expect(sent.status).to.equal(202);
    expect((await inbox.next()).to).to.not.equal(undefined);
    const verified = await callAdmin(gatehouse.url, token, 'PATCH', `/users/${user.id}`, { email_verified: true });
    expect(verified.body.email_verified).to.equal(true);
    const refused = await callAdmin(gatehouse.url, token, 'POST', `/users/${user.id}/email-verification`);
    expect(refused.status).to.equal(409);
    expect(refused.body.error_description ?? refused.body.message ?? JSON.stringify(refused.body)).to.contain('already verified');
    const missing = await callAdmin(gatehouse.url, token, 'POST', '/users/no-such-user/email-verification');
    expect(missing.status).to.equal(404);
  });

  it('a link confirms only the address it was sent to: after an address change it no longer works', async () => {
    const admin = await adminClient(gatehouse, 'ops3');
    const token = await admin.token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/users', { username: 'walt', email: 'walt@example.com', password: PASSWORD });
    const oldLink = verifyLinkIn((await inbox.next()).text)!;
    const agent = new UserAgent();
    const [form] = formsOf(await (await agent.request(oldLink)).text());
    const changed = await callAdmin(gatehouse.url, token, 'PATCH', `/users/${created.body.id}`, { email: 'walter@example.com' });
    expect(changed.body.email_verified).to.equal(false);
    // The new address gets a link; the old one a notice that it changed (no link in it).
    const mails = [await inbox.next(), await inbox.next()];
    const to = (mail: (typeof mails)[number]) => (mail.to && 'text' in mail.to ? mail.to.text : '');
    const newMail = mails.find((mail) => to(mail) === 'walter@example.com')!;
    expect(verifyLinkIn(newMail.text)).to.be.a('string');
    const notice = mails.find((mail) => to(mail) === 'walt@example.com')!;
    expect(notice.subject).to.equal('Your email address was changed');
    expect(verifyLinkIn(notice.text)).to.equal(undefined);
    const refused = await agent.postForm(new URL(form!.action, oldLink).toString(), form!.fields);
    expect(refused.status).to.equal(400);
    expect((await gatehouse.services.accounts.findById(created.body.id))!.emailVerified).to.equal(false);
    const newLink = verifyLinkIn(newMail.text)!;
    const [next] = formsOf(await (await agent.request(newLink)).text());
    expect((await agent.postForm(new URL(next!.action, newLink).toString(), next!.fields)).status).to.equal(200);
    expect((await gatehouse.services.accounts.findById(created.body.id))!.emailVerified).to.equal(true);
  });

  it('shows the sign-in stop in every language', async () => {
    for (const locale of LOCALES) {
      // Created through the services, not the admin API: no mail is sent.
      await gatehouse.services.accounts.createUser({ username: `vic-${locale}`, email: `vic-${locale}@example.com`, password: PASSWORD });
      const { context, page } = await tabIn(browser, reused, locale);
      reused = context;
      await page.goto((await authorizationRequest(app, rp)).url);
      await submitPassword(page, `vic-${locale}`);
      await page.waitForSelector('form[action$="/resend"]');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(page, `verify-email-${locale}`);
    }
  });
});

/** "Notes" (a confidential code client) registered on `gatehouse`: a fresh authorization request's sign-in page, and the agent holding its interaction. */
async function notesSignInPage({ gatehouse, deploy }: SuiteInstance): Promise<{ agent: UserAgent; interaction: string }> {
  const { client, secret } = await gatehouse.services.clients.create({
    displayName: 'Notes',
    metadata: { redirect_uris: ['https://app.example.com/cb'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
  });
  const app = await oidc.discovery(new URL(deploy.issuer), client.clientId, { client_secret: secret! }, undefined, { execute: [oidc.allowInsecureRequests] });
  const agent = new UserAgent();
  return { agent, interaction: await signInPage(agent, app, 'https://app.example.com/cb') };
}

describe('self-registration off (the default)', () => {
  const off = instanceForSuite('self_registration_off', { redis: false });

  it('offers no "Create account" and serves no registration page', async () => {
    const { agent, interaction } = await notesSignInPage(off);
    const html = await (await agent.request(interaction)).text();
    expect(html).to.contain('Sign in');
    expect(html).not.to.contain('Create account');
    expect((await agent.request(`${interaction}/register`)).status).to.equal(404);
    const posted = await agent.postForm(`${interaction}/register`, { email: 'x@example.com' });
    expect(posted.status).to.be.oneOf([403, 404]);
  });
});

describe('self-registration on, but no SMTP', () => {
  const noMail = instanceForSuite('self_registration_no_smtp', { redis: false, settings: { GATEHOUSE_SELF_REGISTRATION: 'true' } });

  it('hides "Create account" and says on the page that registration is not available', async () => {
    const { agent, interaction } = await notesSignInPage(noMail);
    expect(await (await agent.request(interaction)).text()).not.to.contain('Create account');
    const page = await agent.request(`${interaction}/register`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.contain('Creating an account is not available on this server');
    expect(formsOf(html).filter((form) => form.action.endsWith('/register'))).to.deep.equal([]);
  });
});
