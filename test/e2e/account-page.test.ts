import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import mongoose from 'mongoose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import { CONSOLE_CLIENT_ID } from '../../src/clients/console-client.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { startInbox, type Inbox } from '../helpers/smtp-inbox.ts';
import { darkSchemeViolations, launchChromium, reportFailedPage, resizeViewport, screenshot, seriousViolations } from './browser.ts';

const NEW_PASSWORD = 'a completely new passphrase';

/**
 * The account page in headless Chromium: the built-in `gatehouse-account` client signs the
 * user in through the hosted pages, then the page changes the profile and the password, ends a
 * session on another device, removes an app's access, and adds, renames and removes passkeys
 * with a virtual authenticator (WebAuthn over the DevTools protocol).
 */
/** Words (up to 24 characters: any that fits a phone's line; a hyphen may end a line) that the page draws across two lines, i.e. broken inside the word. */
async function wordsBrokenAcrossLines(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const broken: string[] = [];
    const walker = document.createTreeWalker(document.querySelector('main')!, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      for (const match of (node.textContent ?? '').matchAll(/[^\s-]{2,24}/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        if (new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size > 1) broken.push(match[0]);
      }
    }
    return broken;
  });
}


/** A string of the account page's locale file with its values filled in, as the page shows it. */
function accountString(locale: string, key: string, values: Record<string, string | number> = {}): string {
  const strings = JSON.parse(readFileSync(new URL(`../../src/account/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

/** Signs `username` in on the account page from a page whose browser speaks Russian (its sign-in button reads "Войти"). */
async function signInInRussian(page: Page, accountUrl: string, username: string): Promise<void> {
  await page.goto(accountUrl);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.waitForSelector('#username');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('button.primary');
  await page.locator('header .user').waitFor();
}
describe('account page (headless Chromium)', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let accountUrl: string;
  let clockOffset = 0;
  let inbox: Inbox;
  const errors: string[] = [];

  before(async () => {
    // `localhost`: WebAuthn needs a host name for its relying party id.
    // Mail configured: a changed address waits for the link mailed to it.
    inbox = await startInbox();
    deploy = await deployment('e2e_account', {
      host: 'localhost',
      settings: { HOST: '127.0.0.1', GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>' },
      secondFactorClock: () => new Date(Date.now() + clockOffset),
    });
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
    accountUrl = `${deploy.issuer}/account/`;
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'en-US' });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) errors.push(message.text());
    });
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    authenticatorId = await newAuthenticator();
  });

  let authenticatorId: string;
  async function newAuthenticator(): Promise<string> {
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return added.authenticatorId;
  }
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, `account-failed-${this.currentTest.title.slice(0, 24).replace(/\W+/g, '-')}`);
    clockOffset = 0;
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
    await inbox?.close();
  });

  /** The seeded web app, signed in on "another device" (a cookie jar of its own): its refresh token. */
  async function otherDevice(extra: Record<string, string> = {}): Promise<string> {
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile offline_access', prompt: 'consent', ...extra });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    return (await oidc.authorizationCodeGrant(config, callback, request.checks)).refresh_token!;
  }

  async function active(token: string): Promise<boolean> {
    return (await oidc.tokenIntrospection(await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret), token)).active;
  }

  async function signInOnHostedPage(password = PASSWORD): Promise<void> {
    await page.waitForSelector('#username');
    await page.fill('#username', cast.user.username);
    await page.fill('#password', password);
    await page.click('button.primary');
  }

  async function section(name: string, heading: string): Promise<void> {
    await page.getByRole('navigation').getByRole('link', { name }).click();
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  }

  it('serves one page with a CSP that forbids inline script', async () => {
    const response = await fetch(accountUrl);
    expect(response.status).to.equal(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("script-src 'self'").and.include("connect-src 'self'").and.not.include('unsafe-inline');
    const html = await response.text();
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).to.include(`data-client-id="${ACCOUNT_CLIENT_ID}"`);
    expect((await fetch(`${accountUrl}assets/app.js`)).headers.get('content-type')).to.include('javascript');
    expect((await fetch(`${accountUrl}assets/nothing.js`)).status).to.equal(404);
    const client = await gatehouse.services.clients.get(ACCOUNT_CLIENT_ID);
    expect(client).to.include({ firstParty: true, admin: false });
    expect(client!.metadata).to.include({ token_endpoint_auth_method: 'none', require_pkce: true });
  });

  it('signs in through the hosted pages (no consent: first party) and edits the profile', async () => {
    await page.goto(accountUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInOnHostedPage();
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    expect(page.url()).to.equal(`${accountUrl}`);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.fill('#p-nickname', 'Al');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Your profile was saved.').waitFor();
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.attributes.nickname).to.equal('Al');

    // A new address waits for the link mailed to it: the field and the account keep the current one.
    const current = (await gatehouse.services.accounts.findById(cast.user.id))!.email!;
    const wanted = 'alice.moved@example.org';
    await page.fill('#p-email', wanted);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(accountString('en', 'profile.saved.email_pending', { email: wanted })).waitFor();
    const pending = page.getByTestId('pending-email');
    await pending.getByText(accountString('en', 'profile.email.pending', { email: wanted })).waitFor();
    expect(await page.inputValue('#p-email')).to.equal(current);
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.email).to.equal(current);
    expect(JSON.stringify((await inbox.next()).to)).to.contain(wanted);
    for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
      await page.selectOption('#language', locale);
      await page.getByTestId('pending-email').getByText(accountString(locale, 'profile.email.pending', { email: wanted })).waitFor();
      await screenshot(page, `account-pending-email-${locale}`);
    }
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.getByTestId('pending-email').getByRole('button', { name: 'Send the link again' }).click();
    await page.getByText(accountString('en', 'profile.email.pending.resent', { email: wanted })).waitFor();
    expect(JSON.stringify((await inbox.next()).to)).to.contain(wanted);
    await page.getByTestId('pending-email').getByRole('button', { name: 'Cancel the change' }).click();
    await page.getByText(accountString('en', 'profile.email.pending.cancelled')).waitFor();
    expect(await page.getByTestId('pending-email').count()).to.equal(0);
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.email).to.equal(current);
  });

  /** The account client's authorization requests a page makes, by their `prompt` ('' for none). */
  function authorizationPrompts(tab: Page): string[] {
    const prompts: string[] = [];
    tab.on('request', (request) => {
      const url = new URL(request.url());
      if (request.isNavigationRequest() && url.searchParams.get('client_id') === ACCOUNT_CLIENT_ID && url.searchParams.has('code_challenge')) prompts.push(url.searchParams.get('prompt') ?? '');
    });
    return prompts;
  }

  it("arriving with the provider's session live (signed in in another tab) signs in without a click, at the section asked for, as Keycloak's account console does", async () => {
    // A user of its own: the journey's user keeps no session besides the page's (the password change counts them).
    const username = 'tab-hopper';
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: 'tab-hopper@example.com', emailVerified: true });
    const browsing = await browser.newContext({ locale: 'en-US' });
    try {
      const first = await browsing.newPage();
      await first.goto(accountUrl);
      await first.getByRole('button', { name: 'Sign in' }).click();
      await first.waitForSelector('#username');
      await first.fill('#username', username);
      await first.fill('#password', PASSWORD);
      await first.click('button.primary');
      await first.locator('header .user').waitFor();
      // A new tab has no tokens of the page's own (they live in the tab's sessionStorage); the provider's session cookie is there.
      const second = await browsing.newPage();
      const prompts = authorizationPrompts(second);
      await second.goto(`${accountUrl}#/security`);
      await second.locator('nav a[href="#/security"][aria-current="page"]').waitFor();
      await second.locator('main h1').waitFor();
      expect(new URL(second.url()).hash).to.equal('#/security');
      expect(prompts, 'one silent authorization request (prompt=none), no page shown').to.deep.equal(['none']);
    } finally {
      await browsing.close();
    }
  });

  it('a visitor with no session at the provider: one silent try, then the sign-in page as before (no error, no loop); its button shows the hosted sign-in', async () => {
    const browsing = await browser.newContext({ locale: 'en-US' });
    try {
      const tab = await browsing.newPage();
      const prompts = authorizationPrompts(tab);
      // Sent from an application (keycloak-js's accountManagement()): its link stays across the silent round trip.
      const query = `?${new URLSearchParams({ referrer: cast.web.clientId, referrer_uri: REDIRECT_URI }).toString()}`;
      await tab.goto(`${accountUrl}${query}`);
      await tab.getByRole('button', { name: 'Sign in' }).waitFor();
      expect(await tab.getByRole('alert').count(), 'login_required is no failure to report').to.equal(0);
      // A card like the hosted pages': the operator's name over it, the heading, the sentence and one full-width button in it.
      const card = await tab.evaluate(() => {
        const box = document.querySelector('main .sign-in-card')?.getBoundingClientRect();
        const button = document.querySelector('main .sign-in-card button')?.getBoundingClientRect();
        return { product: document.querySelector('main > .product')?.textContent, heading: document.querySelector('main .sign-in-card h1')?.textContent, width: box?.width, centre: box === undefined ? undefined : box.left + box.width / 2, buttonWidth: button?.width };
      });
      expect(card).to.include({ product: 'Gatehouse', heading: 'Manage your account' });
      expect(card.width, 'the hosted pages\' 26rem').to.equal(416);
      expect(card.centre, 'in the middle').to.be.closeTo(640, 1);
      expect(card.buttonWidth, 'the button across the card (its padding aside)').to.be.closeTo(416 - 2 * 28, 1);
      expect(await seriousViolations(tab)).to.deep.equal([]);
      // Read from the page (it rewrites its address in the task that draws the button), not from tab.url(), which follows the browser's report of it.
      expect(await tab.evaluate(() => location.search), 'the error is gone from the address, the query that named the application is back').to.equal(query);
      expect(await tab.getByTestId('referrer').getAttribute('href')).to.equal(REDIRECT_URI);
      expect(prompts).to.deep.equal(['none']);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.waitForSelector('#username');
      expect(prompts, 'the button asks for the sign-in page').to.deep.equal(['none', '']);
    } finally {
      await browsing.close();
    }
  });

  it('says it is loading while a section waits for the account API (not a blank page)', async () => {
    // The section's call is held until the notice has been seen: no timing involved.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let seen!: () => void;
    const asked = new Promise<void>((resolve) => (seen = resolve));
    const sessions = /\/sessions$/;
    await page.route(sessions, async (route) => {
      seen();
      await held;
      await route.continue();
    });
    try {
      await page.getByRole('navigation').getByRole('link', { name: 'Devices' }).click();
      await asked;
      expect(await page.locator('main [data-testid="loading"]').textContent()).to.equal('Loading…');
      expect(await page.locator('main h1').count(), 'no heading until the section is drawn').to.equal(0);
      release();
      await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
      expect(await page.locator('main [data-testid="loading"]').count()).to.equal(0);
    } finally {
      release();
      await page.unroute(sessions);
    }
    // Back where the next test starts: the profile.
    await section('Profile', 'Profile');
  });

  it("says the profile's refusals in the reader's language, by their codes (an email address taken, a name too long)", async () => {
    await gatehouse.services.accounts.createUser({ username: 'taken-email', password: PASSWORD, email: 'taken@example.com' });
    for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
      await page.selectOption('#language', locale);
      await page.getByRole('heading', { name: accountString(locale, 'profile.form'), level: 2 }).waitFor();
      await page.fill('#p-email', 'taken@example.com');
      await page.locator('form button[type="submit"]').first().click();
      await page.getByText(accountString(locale, 'problem.email.already_in_use')).waitFor();
      await page.fill('#p-email', '');
      await page.fill('#p-nickname', 'N'.repeat(300));
      await page.locator('form button[type="submit"]').first().click();
      const field = accountString(locale, 'field.nickname');
      await page.getByText(accountString(locale, 'problem.too_long', { field, max: 256 })).waitFor();
      await screenshot(page, `account-error-profile-${locale}`);
      await page.fill('#p-nickname', 'Al');
    }
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.attributes.nickname).to.equal('Al');
  });

  it('changes the password with the current one', async () => {
    await section('Sign-in & security', 'Sign-in & security');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.fill('#pw-current', 'wrong password');
    await page.fill('#pw-new', NEW_PASSWORD);
    await page.fill('#pw-repeat', NEW_PASSWORD);
    await page.uncheck('#pw-others');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('That is not your current password.').waitFor();
    // The same refusals in every language, chosen by their codes: a wrong current password, a too short new one.
    for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
      await page.selectOption('#language', locale);
      await page.getByRole('heading', { name: accountString(locale, 'password.heading'), level: 2 }).waitFor();
      await page.fill('#pw-current', 'wrong password');
      await page.fill('#pw-new', NEW_PASSWORD);
      await page.fill('#pw-repeat', NEW_PASSWORD);
      await page.locator('form[aria-labelledby="password-heading"] button[type="submit"]').click();
      await page.getByText(accountString(locale, 'problem.current_password.not_current_password')).waitFor();
      await screenshot(page, `account-error-current-password-${locale}`);
      await page.fill('#pw-current', PASSWORD);
      await page.fill('#pw-new', 'short');
      await page.fill('#pw-repeat', 'short');
      await page.locator('form[aria-labelledby="password-heading"] button[type="submit"]').click();
      await page.getByText(accountString(locale, 'problem.new_password.password_too_short', { limit: 8 })).waitFor();
      await screenshot(page, `account-error-new-password-${locale}`);
    }
    // A count in Russian takes the form its number asks for (21 символа, 22 символов): the policy's minimum set here.
    const policy = gatehouse.services.runtimeSettings.passwordPolicy;
    await page.selectOption('#language', 'ru');
    await page.getByRole('heading', { name: accountString('ru', 'password.heading'), level: 2 }).waitFor();
    try {
      for (const [limit, words] of [[21, '21 символа'], [22, '22 символов']] as const) {
        await policy.update({ password_min_length: limit });
        await page.fill('#pw-current', PASSWORD);
        await page.fill('#pw-new', 'short');
        await page.fill('#pw-repeat', 'short');
        await page.locator('form[aria-labelledby="password-heading"] button[type="submit"]').click();
        await page.getByText(`Новый пароль слишком короткий: нужно не менее ${words}.`).waitFor();
        if (limit === 21) await screenshot(page, 'account-error-new-password-ru-21');
      }
    } finally {
      await policy.update({ password_min_length: null });
    }
    await page.selectOption('#language', 'en');
    await page.getByRole('heading', { name: accountString('en', 'password.heading'), level: 2 }).waitFor();
    await page.fill('#pw-current', PASSWORD);
    await page.fill('#pw-new', NEW_PASSWORD);
    await page.fill('#pw-repeat', NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed.').waitFor();
    expect((await gatehouse.services.accounts.authenticate(cast.user.username, NEW_PASSWORD, '203.0.113.9')).ok).to.equal(true);
    // Back to the seeded password for the rest of the journey (an operator's reset).
    await gatehouse.services.accounts.setPassword(cast.user.id, PASSWORD);
  });

  it('a user without a password (upstream or passkey-only) sets one: no current-password field, a recent sign-in instead', async () => {
    // FerretDB v1 updates a document by read-modify-write: a last-sign-in batch landing now would write the password back.
    await gatehouse.flushBatchedWrites();
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      await connection.db!.collection('users').updateOne({ _id: cast.user.id as never }, { $set: { passwordHash: null, passwordChangedAt: null } });
    } finally {
      await connection.close();
    }
    await page.goto(`${accountUrl}#/profile`);
    await section('Sign-in & security', 'Sign-in & security');
    await page.getByRole('heading', { name: 'Set a password', level: 2 }).waitFor();
    expect(await page.locator('#pw-current').count()).to.equal(0);
    expect(await seriousViolations(page)).to.deep.equal([]);
    for (const [locale, heading] of [['ru', 'Задать пароль'], ['zh-CN', '设置密码'], ['ko', '비밀번호 설정'], ['en', 'Set a password']] as const) {
      await page.selectOption('#language', locale);
      await page.getByRole('heading', { name: heading, level: 2 }).waitFor();
      await screenshot(page, `account-security-set-password-${locale}`);
    }
    await page.fill('#pw-new', 'short');
    await page.fill('#pw-repeat', 'short');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').waitFor();
    await page.fill('#pw-new', NEW_PASSWORD);
    await page.fill('#pw-repeat', NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Your password was set.').waitFor();
    // Now the usual form, with the current password.
    await page.locator('#pw-current').waitFor();
    expect((await gatehouse.services.accounts.authenticate(cast.user.username, NEW_PASSWORD, '203.0.113.9')).ok).to.equal(true);
    await gatehouse.services.accounts.setPassword(cast.user.id, PASSWORD);
  });

  it('ends the session of another device: its refresh token is inactive at once', async () => {
    const refresh = await otherDevice();
    expect(await active(refresh)).to.equal(true);
    await section('Devices', 'Devices');
    await page.locator('li[data-current="yes"]').waitFor();
    // Headless Chromium on Linux, from this machine.
    expect(await page.locator('li[data-current="yes"] h2').textContent()).to.match(/^Chrome on Linux/);
    expect(await page.locator('li[data-current="yes"] dl').textContent()).to.match(/127\.0\.0\.1/);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-sessions-en');
    const other = page.locator('li[data-current="no"]');
    expect(await other.count()).to.equal(1);
    await other.getByRole('button', { name: 'Sign out this session' }).click();
    await other.getByRole('button', { name: 'Yes, sign it out' }).click();
    await page.getByText('The session was signed out.').waitFor();
    expect(await page.locator('li[data-current="no"]').count()).to.equal(0);
    expect(await active(refresh)).to.equal(false);
  });

  it("a session already ended elsewhere: the page says so in the reader's language, by the 404's code", async () => {
    for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
      await otherDevice();
      await page.goto(`${accountUrl}#/profile`);
      await page.selectOption('#language', locale);
      await page.goto(`${accountUrl}#/sessions`);
      await page.getByRole('heading', { name: accountString(locale, 'sessions.heading'), level: 1 }).waitFor();
      const other = page.locator('li[data-current="no"]');
      await other.waitFor();
      // Ended by an operator meanwhile: the newest session is the other device's.
      const sessions = await gatehouse.services.revocation.listSessions(cast.user.id);
      const newest = sessions.reduce((a, b) => ((a.loginAt?.getTime() ?? 0) >= (b.loginAt?.getTime() ?? 0) ? a : b));
      expect(await gatehouse.services.revocation.revokeSession(cast.user.id, newest.id)).to.equal(true);
      await other.getByRole('button', { name: accountString(locale, 'sessions.end') }).click();
      await other.getByRole('button', { name: accountString(locale, 'sessions.end.confirm') }).click();
      await page.getByText(accountString(locale, 'problem.session_not_found')).waitFor();
      await screenshot(page, `account-error-session-gone-${locale}`);
    }
  });

  it('removes an app\'s access: its refresh token is inactive at once, and its next sign-in asks again', async () => {
    // With an API among what it may call: named by its display name, not its address.
    const refresh = await otherDevice({ scope: 'openid profile offline_access read', resource: API });
    const config = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const signInElsewhere = async () => signIn(new UserAgent(), (await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' })).url.href, REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    expect((await signInElsewhere()).sawConsent, 'remembered: another browser is not asked').to.equal(false);
    await section('Apps', 'Apps');
    const app = page.locator(`li[data-client-id="${cast.web.clientId}"]`);
    await app.waitFor();
    expect(await app.textContent()).to.include('Stay signed in when you are away');
    expect(await app.textContent()).to.include('Data in Example API').and.not.include(API);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-apps-en');
    await app.getByRole('button', { name: 'Remove access for Web App' }).click();
    await app.getByRole('button', { name: 'Yes, remove Web App\'s access' }).click();
    await page.getByText('Web App no longer has access to your account.').waitFor();
    expect(await active(refresh)).to.equal(false);
    expect((await signInElsewhere()).sawConsent, 'removed: the app asks again').to.equal(true);
  });

  it('lists a client acting for the user with a token exchanged from an app\'s (RFC 8693) under that app, in each language, and removes it with the app', async () => {
    const orders = 'https://orders.example.com';
    const { apis, clients, revocation } = gatehouse.services;
    if ((await apis.find(orders)) === undefined) await apis.create({ identifier: orders, name: 'Orders', scopes: ['read'] });
    const caller = await clients.create({
      displayName: 'Orders caller',
      allowedApis: [orders],
      // It also signs the user in itself (its own access, its own entry).
      firstParty: true,
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials', 'refresh_token'], allow_password_grant: true, token_endpoint_auth_method: 'client_secret_basic', token_exchange: { apis: [orders], trusted_clients: [cast.web.clientId] } },
    });
    const callerId = caller.client.clientId;
    const callerConfig = await relyingParty(deploy.issuer, callerId, caller.secret);
    // The web app signs the user in for its API; the caller exchanges that token for one to Orders.
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid read', resource: API });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const subject = (await oidc.authorizationCodeGrant(web, callback, request.checks, { resource: API })).access_token;
    const exchanged = await oidc.genericGrantRequest(callerConfig, 'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: orders,
      scope: 'read',
    });
    expect((await oidc.tokenIntrospection(callerConfig, exchanged.access_token)).active).to.equal(true);

    await page.goto(`${accountUrl}#/profile`);
    await section('Apps', 'Apps');
    const app = page.locator(`li[data-client-id="${cast.web.clientId}"]`);
    await app.waitFor();
    try {
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await page.selectOption('#language', locale);
        await app.getByText(accountString(locale, 'apps.via')).waitFor();
        const via = app.locator(`li[data-via-client-id="${callerId}"]`);
        expect(await via.textContent(), locale).to.equal(`Orders caller — ${accountString(locale, 'apps.api', { api: 'Orders' })}`);
        expect(await page.locator(`li[data-client-id="${callerId}"]`).count(), `${locale}: not an app of its own`).to.equal(0);
        await screenshot(page, `account-apps-exchanged-${locale}`);
      }
    } finally {
      await page.selectOption('#language', 'en');
    }
    expect(await seriousViolations(page)).to.deep.equal([]);

    // The caller's own sign-in is its own entry: removing that leaves what it obtained through the web app, listed there.
    const own = await oidc.genericGrantRequest(callerConfig, 'password', { username: cast.user.username, password: PASSWORD, scope: 'openid offline_access' });
    await page.goto(`${accountUrl}#/profile`);
    await section('Apps', 'Apps');
    const callerApp = page.locator(`li[data-client-id="${callerId}"]`);
    await callerApp.getByRole('button', { name: 'Remove access for Orders caller' }).click();
    await callerApp.getByRole('button', { name: 'Yes, remove Orders caller\'s access' }).click();
    await page.getByText('Orders caller no longer has access to your account.').waitFor();
    expect(await callerApp.count(), "the caller's own entry").to.equal(0);
    await app.locator(`li[data-via-client-id="${callerId}"]`).waitFor();
    expect((await oidc.tokenIntrospection(callerConfig, own.refresh_token!)).active, "the caller's own refresh token").to.equal(false);
    expect((await oidc.tokenIntrospection(callerConfig, exchanged.access_token)).active, 'the exchanged token, listed under the web app').to.equal(true);

    await app.getByRole('button', { name: 'Remove access for Web App' }).click();
    await app.getByRole('button', { name: 'Yes, remove Web App\'s access' }).click();
    await page.getByText('Web App no longer has access to your account.').waitFor();
    expect((await oidc.tokenIntrospection(callerConfig, exchanged.access_token)).active, 'the exchanged token').to.equal(false);
    expect((await revocation.listGrants(cast.user.id)).filter((grant) => grant.clientId === callerId), "the caller's exchanged grant").to.deep.equal([]);
  });

  it("an exchanged access whose original grant is gone (left by an earlier version): the exchanging client's own entry, saying which app it came from, in each language, and removable", async () => {
    const orders = 'https://orders.example.com';
    const { apis, clients, revocation } = gatehouse.services;
    if ((await apis.find(orders)) === undefined) await apis.create({ identifier: orders, name: 'Orders', scopes: ['read'] });
    const caller = await clients.create({
      displayName: 'Reports service',
      allowedApis: [orders],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', token_exchange: { apis: [orders], trusted_clients: [cast.web.clientId] } },
    });
    const callerId = caller.client.clientId;
    const callerConfig = await relyingParty(deploy.issuer, callerId, caller.secret);
    const web = await relyingParty(deploy.issuer, cast.web.clientId, cast.web.secret);
    const webGrants = async () => (await revocation.listGrants(cast.user.id)).filter((grant) => grant.clientId === cast.web.clientId).map((grant) => grant.id);
    const grantsBefore = new Set(await webGrants());
    const request = await authorizationRequest(web, REDIRECT_URI, { scope: 'openid read', resource: API });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const subject = (await oidc.authorizationCodeGrant(web, callback, request.checks, { resource: API })).access_token;
    await oidc.genericGrantRequest(callerConfig, 'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: orders,
      scope: 'read',
    });
    // The web app's grant removed as versions before revocation removed exchanges with their original did: the exchanged grant outlives it.
    const original = (await webGrants()).filter((id) => !grantsBefore.has(id));
    expect(original).to.have.length(1);
    const connection = await mongoose.createConnection(deploy.mongodbUri).asPromise();
    try {
      expect((await connection.db!.collection('oidc_grant').deleteOne({ _id: original[0] as never })).deletedCount).to.equal(1);
    } finally {
      await connection.close();
    }

    await page.goto(`${accountUrl}#/profile`);
    await section('Apps', 'Apps');
    const app = page.locator(`li[data-client-id="${callerId}"]`);
    await app.waitFor();
    try {
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await page.selectOption('#language', locale);
        await app.getByText(accountString(locale, 'apps.from'), { exact: true }).waitFor();
        const origin = app.locator(`li[data-from-client-id="${cast.web.clientId}"]`);
        expect(await origin.textContent(), locale).to.equal(`Web App — ${accountString(locale, 'apps.api', { api: 'Orders' })}`);
        expect(await app.textContent(), locale).to.include(accountString(locale, 'apps.from.hint')).and.not.include(accountString(locale, 'apps.access'));
        await screenshot(page, `account-apps-exchanged-origin-gone-${locale}`);
      }
    } finally {
      await page.selectOption('#language', 'en');
    }
    expect(await seriousViolations(page)).to.deep.equal([]);

    await app.getByRole('button', { name: 'Remove access for Reports service' }).click();
    await app.getByRole('button', { name: 'Yes, remove Reports service\'s access' }).click();
    await page.getByText('Reports service no longer has access to your account.').waitFor();
    expect((await revocation.listGrants(cast.user.id)).filter((grant) => grant.clientId === callerId), "the service's exchanged grant").to.deep.equal([]);
  });

  it("names Gatehouse's own admin API in the reader's language (the admin console's access), never by its address", async () => {
    const { roles } = (await gatehouse.services.accounts.findById(cast.user.id))!;
    await gatehouse.services.users.update(cast.user.id, { roles: [...roles, 'admin'] });
    try {
      // The user signs in to the admin console: its access is the admin API.
      const consoleUrl = `${deploy.issuer}/console/`;
      const config = await relyingParty(deploy.issuer, CONSOLE_CLIENT_ID);
      const request = await authorizationRequest(config, consoleUrl, { scope: 'openid admin', resource: gatehouse.services.adminAudience });
      const { callback } = await signIn(new UserAgent(), request.url.href, consoleUrl, { username: cast.user.username, password: PASSWORD });
      // The API joins the grant with the console's first token for it (its default API).
      await oidc.authorizationCodeGrant(config, callback, request.checks);
      await page.goto(`${accountUrl}#/profile`);
      await section('Apps', 'Apps');
      const app = page.locator(`li[data-client-id="${CONSOLE_CLIENT_ID}"]`);
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await page.selectOption('#language', locale);
        const label = accountString(locale, 'apps.api', { api: accountString(locale, 'api.builtIn.admin') });
        await app.getByText(label).waitFor();
        expect(await app.textContent(), locale).to.include(accountString(locale, 'app.builtIn.gatehouse-console')).and.not.include('/admin/api/v1');
        await screenshot(page, `account-apps-admin-api-${locale}`);
      }
    } finally {
      await page.selectOption('#language', 'en');
      await gatehouse.services.users.update(cast.user.id, { roles });
      await gatehouse.services.revocation.revokeByClientId(CONSOLE_CLIENT_ID);
    }
  });

  it('without a second factor: one notice for the whole page under its heading, about passkeys and the authenticator app alike — not a header of the passkeys card', async () => {
    await page.goto(`${accountUrl}#/profile`);
    await section('Sign-in & security', 'Sign-in & security');
    try {
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await page.selectOption('#language', locale);
        const status = page.locator('main .factor-status');
        await status.getByText(accountString(locale, 'security.mfa.off'), { exact: true }).waitFor();
        const placement = await status.evaluate((notice) => {
          const style = getComputedStyle(notice);
          const passkeys = document.getElementById('passkeys-heading')!.closest('section')!;
          return {
            after: notice.previousElementSibling?.tagName,
            before: notice.nextElementSibling?.querySelector('h2')?.id,
            corners: [style.borderTopLeftRadius, style.borderTopRightRadius, style.borderBottomLeftRadius, style.borderBottomRightRadius].every((radius) => radius !== '0px'),
            gap: passkeys.getBoundingClientRect().top - notice.getBoundingClientRect().bottom,
            passkeysTop: getComputedStyle(passkeys).borderTopLeftRadius,
          };
        });
        expect(placement, locale).to.deep.include({ after: 'H1', before: 'password-heading', corners: true });
        expect(placement.gap, `${locale}: far from the passkeys card`).to.be.greaterThan(100);
        expect(placement.passkeysTop, `${locale}: the passkeys card keeps its own top`).to.not.equal('0px');
        // The authenticator app's card: its button follows its sentence at a form's spacing (the button's own margin), not a blank line more.
        const totp = await page.locator('#totp-heading').evaluate((heading) => {
          const card = heading.closest('section')!;
          const button = card.querySelector('button')!;
          const sentence = button.previousElementSibling!;
          return { gap: button.getBoundingClientRect().top - sentence.getBoundingClientRect().bottom, margin: parseFloat(getComputedStyle(button).marginTop) };
        });
        expect(totp.gap, `${locale}: ${JSON.stringify(totp)}`).to.be.closeTo(totp.margin, 1);
        for (const scheme of ['dark', 'light'] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          expect(await seriousViolations(page), `${locale} ${scheme}`).to.deep.equal([]);
        }
        await screenshot(page, `account-security-no-second-factor-${locale}`);
      }
    } finally {
      await page.selectOption('#language', 'en');
    }
  });

  it('asks to sign in again before a factor change when the sign-in is not recent, and comes back', async () => {
    // An app with access, for the screenshots at the end (the next sign-ins will need a passkey).
    await otherDevice();
    await section('Sign-in & security', 'Sign-in & security');
    clockOffset = 10 * 60 * 1000;
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('button', { name: 'Sign in again' }).waitFor();
    clockOffset = 0;
    await page.getByRole('button', { name: 'Sign in again' }).click();
    await signInOnHostedPage();
    await page.getByRole('heading', { name: 'Sign-in & security', level: 1 }).waitFor();
    expect(page.url()).to.equal(`${accountUrl}#/security`);
  });

  it('adds two passkeys with the virtual authenticator, renames one and removes the other', async () => {
    await page.fill('#passkey-name', 'Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Laptop was added.').waitFor();
    // The same authenticator refuses a second passkey for the same account (excludeCredentials):
    // the page says so, rather than that nothing happened.
    await page.fill('#passkey-name', 'Laptop again');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('This device or security key already holds a passkey for your account.', { exact: false }).waitFor();
    // Another device.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await newAuthenticator();
    await page.fill('#passkey-name', 'Phone');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Phone was added.').waitFor();
    expect((await gatehouse.services.passkeys.list(cast.user.id)).map((p) => p.name)).to.deep.equal(['Laptop', 'Phone']);
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.secondFactor).to.equal(true);
    expect(await seriousViolations(page)).to.deep.equal([]);
    // The second-factor status is the page's own notice under its heading (and the "added" message), a box apart from the cards and as wide.
    const status = await page.evaluate(() => {
      const line = [...document.querySelectorAll('main p')].find((p) => p.textContent === 'Your account is protected by a second factor.')!;
      const next = line.nextElementSibling!;
      return { next: next.getAttribute('aria-labelledby'), gap: next.getBoundingClientRect().top - line.getBoundingClientRect().bottom, left: next.getBoundingClientRect().left - line.getBoundingClientRect().left, width: next.getBoundingClientRect().width - line.getBoundingClientRect().width };
    });
    expect(status).to.deep.include({ next: 'password-heading', left: 0, width: 0 });
    expect(status.gap, 'a gap between the notice and the first card').to.be.greaterThan(8);
    await screenshot(page, 'account-security-en');

    await page.getByRole('button', { name: 'Rename Phone' }).click();
    // A right-to-left override (U+202E) in a name would reverse the sentences it is shown in: refused, in the page's words.
    await page.fill('input[name="name"][id^="rename-"]', 'Old\u202Ephone');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Remove the invisible control or formatting character', { exact: false }).waitFor();
    await page.fill('input[name="name"][id^="rename-"]', 'Old phone');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('The passkey was renamed.').waitFor();

    await page.getByRole('button', { name: 'Remove Laptop' }).click();
    await page.getByRole('button', { name: 'Yes, remove Laptop' }).click();
    await page.getByText('Laptop was removed.').waitFor();
    expect((await gatehouse.services.passkeys.list(cast.user.id)).map((p) => p.name)).to.deep.equal(['Old phone']);
    expect(await page.locator('tr[data-passkey]').count()).to.equal(1);
    // One stored before names were checked keeps its override to itself: in its own <bdi> in the
    // list, isolated (U+2068…U+2069) in the sentences and labels that name it.
    const [kept] = await gatehouse.services.passkeys.list(cast.user.id);
    expect(await gatehouse.services.passkeys.rename(cast.user.id, kept!.id, 'Old\u202Ephone')).to.equal(true);
    await page.evaluate(() => (location.hash = '#/'));
    await page.evaluate(() => (location.hash = '#/security'));
    await page.locator('tr[data-passkey] bdi').first().waitFor();
    expect(await page.locator('tr[data-passkey] bdi').first().textContent()).to.equal('Old\u202Ephone');
    expect(await page.locator('tr[data-passkey] button[aria-label^="Rename"]').getAttribute('aria-label')).to.equal('Rename \u2068Old\u202Ephone\u2069');
    await screenshot(page, 'account-security-override-en');
    await gatehouse.flushBatchedWrites();
    const types = (await gatehouse.services.audit.query({ users: [cast.user.id], limit: 100 })).events.map((e) => e.type);
    expect(types).to.include.members(['mfa.enrolled', 'mfa.passkey_renamed', 'mfa.removed', 'user.password_changed', 'session.revoked', 'grant.revoked', 'user.updated']);
    expect(errors, 'page errors and CSP violations').to.deep.equal([]);
  });

  it('sets up an authenticator app: QR code, a code from the key, ten recovery codes shown once', async () => {
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const key = page.getByTestId('totp-secret');
    await key.waitFor();
    expect(await page.locator('img.qr').getAttribute('src')).to.match(/^data:image\/svg\+xml;base64,/);
    // In groups of four, as the sign-in's enrolment page shows it: a key typed by hand is read in pieces.
    expect(await key.textContent()).to.match(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/u);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-totp-en');
    await page.fill('#totp-code', '000000' === totpCode((await key.textContent())!, new Date()) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('That code did not work').waitFor();
    await page.fill('#totp-code', totpCode((await key.textContent())!, new Date()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    expect(await page.locator('[data-testid="recovery-codes"] li').count()).to.equal(10);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Your authenticator app is set up.').waitFor();
    expect(await page.textContent('main')).to.include('10 unused recovery codes left.');
    expect((await gatehouse.services.factors.status(cast.user.id)).totpSince).to.be.instanceOf(Date);
  });

  it('speaks en, ru, zh-CN and ko: every section in each language, axe-clean', async () => {
    const headings: Record<string, string> = { en: 'Profile', ru: 'Профиль', 'zh-CN': '个人资料', ko: '프로필' };
    const titles: Record<string, string> = { en: 'Your account', ru: 'Ваша учётная запись', 'zh-CN': '您的账户', ko: '내 계정' };
    /** The account page itself among a session's applications: Gatehouse's own client, named in the reader's language. */
    const accountApp: Record<string, string> = { en: 'This account page', ru: 'Эта страница учётной записи', 'zh-CN': '此账户页面', ko: '이 계정 페이지' };
    /** The language picked on the profile section, its heading drawn in it. */
    const speak = async (locale: string) => {
      await page.goto(`${accountUrl}#/profile`);
      await page.locator('#language').waitFor();
      await page.selectOption('#language', locale);
      await page.getByRole('heading', { name: headings[locale], level: 1 }).waitFor();
    };
    /**
     * A section opened and drawn with its data: the route draws a new <main> (only a loading notice in it) under a header
     * marking the section current, and each section fetches everything before it draws its heading
     * with the rest (src/account/web/app.ts). No wait for the network to stay quiet (500 ms each).
     */
    const open = async (name: string) => {
      await page.goto(`${accountUrl}#/${name}`);
      await page.locator(`nav a[href="#/${name}"][aria-current="page"]`).waitFor();
      await page.locator('main h1').waitFor();
    };
    // Each section drawn once per language serves its three looks: the account page's layout and
    // colours follow the width and the scheme through CSS alone (no script of it reads either).
    for (const locale of ['ru', 'zh-CN', 'ko', 'en']) {
      await speak(locale);
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      // The brand ends every title, like the hosted pages' ("Sign in · Gatehouse").
      expect(await page.title()).to.equal(`${headings[locale]} · ${titles[locale]} · Gatehouse`);
      for (const name of ['profile', 'security', 'sessions', 'apps']) {
        await open(name);
        await screenshot(page, `account-${name}-${locale}`);
        if (name === 'sessions') expect(await page.locator('main').innerText(), `sessions in ${locale}`).to.include(accountApp[locale]!);
        expect(await seriousViolations(page), `${name} in ${locale}`).to.deep.equal([]);
        // Column names stay whole on a wide screen too ("Назван|ие" once, in a squeezed passkeys table).
        if (locale !== 'zh-CN') expect(await wordsBrokenAcrossLines(page), `${name} in ${locale} at 1280 px`).to.deep.equal([]);

        // A phone's width: no sideways scrolling on any section, in any language (Russian's longer
        // section names once pushed the header's last link off the screen).
        await resizeViewport(page, { width: 390, height: 844 });
        // What open() and speak() wait for is on the screen at this width too (visible, not cut off by a menu).
        await page.locator(`nav a[href="#/${name}"][aria-current="page"]`).waitFor();
        await page.locator('main h1').waitFor();
        if (name === 'profile') await page.locator('#language').waitFor();
        await screenshot(page, `account-${name}-${locale}-390`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} in ${locale}`).to.be.at.most(390);
        expect(await page.evaluate(() => getComputedStyle(document.querySelector('main')!).wordBreak), `${name} in ${locale}: Korean breaks between words`).to.equal(locale === 'ko' ? 'keep-all' : 'normal');
        if (name === 'security') {
          // The passkeys table is a card per row here: no column hidden, each value under its column's name...
          expect(await page.locator('tr[data-passkey]').first().evaluate((row) => getComputedStyle(row).display), `passkeys in ${locale}`).to.equal('block');
          expect(await page.locator('tr[data-passkey] td').count()).to.equal(4);
          expect(await page.locator('tr[data-passkey] td').nth(1).evaluate((cell) => getComputedStyle(cell, '::before').content)).to.not.equal('none');
          // ...and words stay whole (Russian column names and dates were once broken mid-word at 390 px).
          if (locale !== 'zh-CN') expect(await wordsBrokenAcrossLines(page), `security in ${locale} at 390 px`).to.deep.equal([]);
          await page.emulateMedia({ colorScheme: 'dark' });
          expect(await seriousViolations(page), `security in ${locale} at 390 px, dark`).to.deep.equal([]);
          await screenshot(page, `account-security-${locale}-390-dark`);
          await page.emulateMedia({ colorScheme: 'light' });
        }
        await resizeViewport(page, { width: 1280, height: 720 });

        // Dark mode follows the system like the hosted pages: every section in each language, axe-clean (contrast) in it too.
        await page.emulateMedia({ colorScheme: 'dark' });
        await screenshot(page, `account-${name}-${locale}-dark`);
        expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor), `${name} in ${locale}: dark`).to.equal('rgb(15, 18, 22)');
        // Audited in full in the light scheme above: only what reads colours can differ (COLOUR_RULES).
        expect(await darkSchemeViolations(page), `${name} in ${locale}, dark`).to.deep.equal([]);
        await page.emulateMedia({ colorScheme: 'light' });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // Keyboard only: the section's heading takes focus, Tab walks the header to the sections.
    await page.goto(`${accountUrl}#/sessions`);
    await page.locator('main h1').waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal('H1');
    await page.keyboard.press('Shift+Tab');
    const reached: string[] = [];
    // Past every session's button back round to the header: how many there are depends on the tests before.
    for (let step = 0; step < 40 && !reached.includes('Apps'); step += 1) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText ?? ''));
    }
    expect(reached).to.include('Apps');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
    // The preferred language saved in the profile wins over the browser's (and the header's choice).
    await page.goto(`${accountUrl}#/profile`);
    await page.selectOption('#p-locale', 'ko');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: '프로필', level: 1 }).waitFor();
    expect((await gatehouse.services.accounts.findById(cast.user.id))!.attributes.locale).to.equal('ko');
    // The sign-in screen, before any sign-in, follows the browser's language.
    for (const [locale, button] of [['ru-RU', 'Войти'], ['zh-CN', '登录'], ['ko-KR', '로그인']] as const) {
      const fresh = await browser.newContext({ locale });
      const other = await fresh.newPage();
      await other.goto(accountUrl);
      await other.getByRole('button', { name: button }).waitFor();
      expect(await other.title()).to.equal(`${titles[locale.replace(/-(RU|KR)$/, '')]} · Gatehouse`);
      await screenshot(other, `account-signin-${locale}`);
      expect(await seriousViolations(other)).to.deep.equal([]);
      await fresh.close();
    }
    expect(errors, 'page errors and CSP violations').to.deep.equal([]);
  });

  it("a long full name stays on the header's one line (cut short, whole in its title), the language picker and sign-out are one height on one centre line, and links take the page's accent in both schemes", async () => {
    // A real person's full name at its longest: the header once gave it three lines on a phone, and a second row under the sections at 1280 px.
    const name = 'Maximiliana Alexandra Featherstonehaugh-Cholmondeley von Hohenzollern-Sigmaringen';
    const username = 'maximiliana';
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: 'maximiliana@example.com', emailVerified: true, name });
    // An app with a website: its name on the Apps section is a link.
    const app = await gatehouse.services.clients.create({
      displayName: 'Northwind Procurement',
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile', client_uri: 'https://procurement.example.com/' },
    });
    const config = await relyingParty(deploy.issuer, app.client.clientId, app.secret!);
    await signIn(new UserAgent(), (await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' })).url.href, REDIRECT_URI, { username, password: PASSWORD });
    const wide = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 800 } });
    const other = await wide.newPage();
    try {
      await signInInRussian(other, accountUrl, username);
      for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
        await other.selectOption('#language', locale);
        await other.waitForFunction((chosen) => document.documentElement.lang === chosen && document.querySelector('main h1') !== null, locale);
        for (const width of [1280, 390]) {
          await other.setViewportSize({ width, height: 800 });
          const at = `${locale} at ${width} px`;
          const header = await other.evaluate(() => {
            const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
            const user = document.querySelector<HTMLElement>('header .user')!;
            return {
              select: box('header.bar select'),
              button: box('header.bar .who button'),
              words: (() => { const range = document.createRange(); range.selectNodeContents(document.querySelector('header.bar .who button')!); const words = range.getBoundingClientRect(); return words.top + words.height / 2; })(),
              nav: box('header.bar nav'),
              brand: box('header.bar .brand'),
              userLines: new Set([...(() => { const range = document.createRange(); range.selectNodeContents(user); return range.getClientRects(); })()].map((rect) => Math.round(rect.top))).size,
              title: user.title,
              cut: user.scrollWidth > user.clientWidth,
            };
          });
          expect(Math.abs(header.select.height - header.button.height), `${at}: the language picker and sign-out, one height`).to.be.below(1);
          expect(Math.abs(header.words - (header.button.top + header.button.height / 2)), `${at}: sign-out's words in its middle`).to.be.at.most(2);
          // Side by side on one row, also on a phone (sign-out once took a fourth row of its own there): one centre line.
          expect(Math.abs(header.select.top + header.select.height / 2 - (header.button.top + header.button.height / 2)), `${at}: on one centre line`).to.be.below(1);
          expect(header.userLines, `${at}: the name on one line`).to.equal(1);
          expect(header.cut, `${at}: the name cut short`).to.equal(true);
          expect(header.title, `${at}: the whole name in its title`).to.equal(name);
          // On a wide screen the name, the language and sign-out share the row of the brand and the sections.
          if (width === 1280) expect(header.button.top, `${at}: one row (sign-out beside the sections)`).to.be.below(header.nav.bottom);
        }
        await other.setViewportSize({ width: 1280, height: 800 });
        await screenshot(other, `account-header-long-name-${locale}`);
      }
      // Sent from the app ("Back to <app>" in the header), in Russian: the name, the way back and the person on one row, the
      // sections on their own under it — at 1280 px (the person was pushed onto a row of their own) and narrower.
      await other.selectOption('#language', 'ru');
      await other.goto(`${accountUrl}?${new URLSearchParams({ referrer: app.client.clientId, referrer_uri: REDIRECT_URI })}#/profile`);
      await other.getByTestId('referrer').filter({ hasText: 'Northwind Procurement' }).waitFor();
      for (const width of [1280, 1024, 800]) {
        await other.setViewportSize({ width, height: 800 });
        const header = await other.evaluate(() => {
          const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
          return { place: box('header.bar .place'), button: box('header.bar .who button'), nav: box('header.bar nav'), links: new Set([...document.querySelectorAll('header.bar nav a')].map((link) => Math.round(link.getBoundingClientRect().top))).size, scroll: document.documentElement.scrollWidth };
        });
        const at = `ru with a back link at ${width} px (${JSON.stringify(header)})`;
        expect(header.button.top < header.place.bottom && header.button.bottom > header.place.top, `${at}: sign-out on the row of the name and the way back`).to.equal(true);
        expect(header.nav.top, `${at}: the sections under that row`).to.be.at.least(header.button.bottom - 1);
        expect(header.links, `${at}: the sections on one line`).to.equal(1);
        expect(header.scroll, at).to.be.at.most(width);
        if (width === 1280) await screenshot(other, 'account-header-back-link-ru');
      }
      await other.setViewportSize({ width: 1280, height: 800 });
      // The profile's fields and its language picker: one height down the form (the picker stood 3 px taller than the fields).
      await other.goto(`${accountUrl}#/profile`);
      await other.locator('main form select').first().waitFor();
      const heights = await other.locator('main form input:not([type=checkbox]):not([type=hidden]), main form select').evaluateAll((fields) => [...new Set(fields.map((field) => Math.round(field.getBoundingClientRect().height)))]);
      expect(heights, 'one height for every field').to.have.lengthOf(1);
      // Links in the page's accent (as its buttons are), not the browser's own blue or violet.
      await other.goto(`${accountUrl}#/apps`);
      const link = other.locator('li.item h2 a').filter({ hasText: 'Northwind Procurement' });
      await link.waitFor();
      for (const scheme of ['light', 'dark'] as const) {
        await other.emulateMedia({ colorScheme: scheme });
        const colours = await link.evaluate((anchor) => ({ link: getComputedStyle(anchor).color, button: getComputedStyle(anchor.closest('li')!.querySelector('button.secondary')!).color }));
        expect(colours.link, `${scheme}: ${JSON.stringify(colours)}`).to.equal(colours.button);
        await screenshot(other, `account-apps-link-${scheme}`);
      }
    } finally {
      await wide.close();
    }
  });

  it('keeps a phone screen from scrolling sideways for a 64-character username and an app name without spaces', async () => {
    // Both are allowed (usernames of 1-64 characters, app names up to 200): the header's username
    // and a session's or app's name once ran off the screen, widening the whole page.
    const username = 'u'.repeat(64);
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: `${'e'.repeat(60)}@example.com`, emailVerified: true });
    const longName = 'LedgerReconciliationServiceForTheFinanceDepartmentEuropeanRegion';
    const app = await gatehouse.services.clients.create({
      displayName: longName,
      firstParty: true,
      metadata: { redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
    });
    const config = await relyingParty(deploy.issuer, app.client.clientId, app.secret!);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid profile' });
    await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });

    const phone = await browser.newContext({ locale: 'ru-RU', viewport: { width: 360, height: 740 } });
    const other = await phone.newPage();
    await signInInRussian(other, accountUrl, username);
    for (const name of ['profile', 'sessions', 'apps']) {
      await other.goto(`${accountUrl}#/${name}`);
      await other.locator(`nav a[href="#/${name}"][aria-current="page"]`).waitFor();
      // Drawn with its data (the section fetches everything, then draws its heading with the rest).
      await other.locator('main h1').waitFor();
      if (name !== 'profile') expect(await other.locator('main').innerText(), name).to.include(longName);
      await screenshot(other, `account-${name}-long-names-360`);
      expect(await other.evaluate(() => document.documentElement.scrollWidth), name).to.be.at.most(360);
    }
    // Sent from that app (keycloak-js's createAccountUrl()): its name in the header's "Back to" link breaks too.
    await other.goto(`${accountUrl}?${new URLSearchParams({ referrer: app.client.clientId, referrer_uri: REDIRECT_URI })}#/profile`);
    await other.getByTestId('referrer').filter({ hasText: longName }).waitFor();
    await screenshot(other, 'account-back-link-long-name-360');
    expect(await other.evaluate(() => document.documentElement.scrollWidth), 'the back link').to.be.at.most(360);
    await phone.close();
  });
});
