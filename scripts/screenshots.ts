/**
 * Screenshot sweep: every hosted page a person meets (sign-in, wrong password,
 * consent, second-factor enrolment, recovery codes and code entry, registration, password
 * reset, device code entry, confirmation and success, sign-out, errors, the 404 page) in en, ru,
 * zh-CN and ko, at 1280 and 390 px, light and dark, into test-artifacts/screenshots/sweep/.
 * Each shot is also checked: nothing wider than the viewport, no serious or critical axe
 * violation, the page's lang; the findings are printed at the end (exit 1 when there are any).
 *
 * Then the account page's sections and every console page, signed in as an operator, the same
 * way (the browser's language picks theirs).
 *
 * Run with `npm run screenshots` (scripts/screenshots brings up the test services).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CLIENT_ID } from '../src/clients/console-client.ts';
import { totpCode } from '../src/mfa/totp.ts';
import { upstreamOperations } from '../src/operations/upstream.ts';
import { closeSharedBrowser, darkSchemeViolations, launchChromium, POLLING, seriousViolations } from '../test/e2e/browser.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, seed } from '../test/helpers/e2e.ts';
import { startInbox } from '../test/helpers/smtp-inbox.ts';

const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;
const WIDTHS = [1280, 390] as const;
const SCHEMES = ['light', 'dark'] as const;
const OUT = join(process.cwd(), 'test-artifacts', 'screenshots', 'sweep');
const only = process.argv.slice(2);

const problems: string[] = [];
let shots = 0;
/** Printed as found too, so a sweep cut short still tells what it saw. */
function problem(text: string): void {
  problems.push(text);
  console.log(`problem: ${text}`);
}

/** The page as it is now, at each width and in each scheme: a PNG each, and what is wrong with it. */
async function shoot(page: Page, locale: string, name: string): Promise<void> {
  if (only.length > 0 && !only.some((wanted) => name.startsWith(wanted))) return;
  const lang = await page.getAttribute('html', 'lang');
  if (lang !== locale) problem(`${name} ${locale}: lang is ${lang}`);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) problem(`${name} ${locale} ${width} ${scheme}: overflows by ${overflow} px`);
      // Dark right after light on the same page: only what reads colours can differ (COLOUR_RULES).
      const violations = scheme === 'dark' ? await darkSchemeViolations(page) : await seriousViolations(page);
      for (const violation of violations) problem(`${name} ${locale} ${width} ${scheme}: ${violation.id} (${violation.impact}, ${violation.nodes} nodes)`);
      await page.screenshot({ path: join(OUT, `${name}-${locale}-${width}-${scheme}.png`), fullPage: true });
      shots += 1;
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * Waits until the app has drawn the route's page: its section current, its heading there, no
 * loading notice left, its fonts and images in. Each condition is something on the page, not a
 * quiet network (a page that polls, or a slow font, would make that wait arbitrary).
 */
async function drawn(page: Page, url: string, section: string): Promise<void> {
  await page.evaluate(() => document.querySelector('main')?.setAttribute('data-left', ''));
  await page.goto(url);
  await page.waitForFunction(
    (href) =>
      document.querySelector(`nav a[aria-current="page"]`)?.getAttribute('href') === href &&
      document.querySelector('main:not([data-left]) h1') !== null &&
      document.querySelector('main:not([data-left]) [data-testid="loading"]') === null,
    section,
    POLLING,
  );
  await page.evaluate(async () => {
    await document.fonts.ready;
    await Promise.all([...document.images].map((image) => (image.complete ? undefined : image.decode().catch(() => undefined))));
  });
}

/** The account page's sections and the console's pages, in a browser that speaks `locale` (both follow it). */
async function browserApps(browser: Browser, issuer: string, locale: string, operatorId: string, webClientId: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const page = await context.newPage();
  await page.goto(`${issuer}/account/`);
  await page.locator('main button').click();
  await page.waitForSelector('#login');
  await page.fill('#login', 'operator');
  await page.fill('#password', PASSWORD);
  await page.click('button.primary');
  await page.locator('main h1').waitFor();
  for (const name of ['profile', 'security', 'sessions', 'apps']) {
    await drawn(page, `${issuer}/account/#/${name}`, `#/${name}`);
    await shoot(page, locale, `account-${name}`);
  }
  // Sent from an application (keycloak-js's createAccountUrl()): "Back to <app>" in the header.
  await drawn(page, `${issuer}/account/?${new URLSearchParams({ referrer: webClientId, referrer_uri: REDIRECT_URI })}#/profile`, '#/profile');
  await shoot(page, locale, 'account-back-link');
  await page.goto(`${issuer}/console/`);
  await page.locator('main button').click();
  await page.locator('[data-testid="count-users"]').waitFor();
  const routes = ['', 'users', `users/${operatorId}`, 'clients', `clients/${CONSOLE_CLIENT_ID}`, 'apis', 'upstream', 'roles', 'lockouts', 'keys', 'audit', 'settings', 'settings/sign-in', 'settings/security'];
  for (const route of routes) {
    await drawn(page, `${issuer}/console/#/${route}`, route === '' ? '#/' : `#/${route.split('/')[0]}`);
    const name = route === '' ? 'dashboard' : route.startsWith('settings/') ? route.replace('/', '-') : route.includes('/') ? `${route.split('/')[0]}-item` : route;
    await shoot(page, locale, `console-${name}`);
  }
  await context.close();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const inbox = await startInbox();
  // On `localhost`, not an IP address: passkeys are offered (sign-in, enrolment, account page).
  const deploy = await deployment('sweep', {
    host: 'localhost',
    settings: { GATEHOUSE_SMTP_URL: inbox.url, GATEHOUSE_MAIL_FROM: 'Gatehouse <no-reply@example.com>', GATEHOUSE_SELF_REGISTRATION: 'true', GATEHOUSE_MFA_REQUIRED_ROLES: 'finance' },
  });
  const gatehouse = await deploy.start();
  const issuer = deploy.issuer;
  try {
    const cast = await seed(gatehouse);
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const tv = await gatehouse.services.clients.create({
      displayName: 'Living-room TV',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'openid profile' },
    });
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { device_authorization_endpoint: string };
    const deviceEndpoint = discovery.device_authorization_endpoint;
    const operator = await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, email: 'operator@example.com', emailVerified: true, name: 'Ada Operator', roles: ['admin'] });
    // Two upstream providers, so the sign-in page shows their buttons (one with a long name); their
    // endpoints are never visited: the sweep shows the page a failed return from one leads to.
    const upstream = upstreamOperations(gatehouse.services);
    const actor = { actor: { type: 'system' as const, id: 'screenshots' } };
    await upstream.create(actor, { alias: 'github', preset: 'github', client_id: 'sweep', client_secret: 'sweep-secret' });
    await upstream.create(actor, {
      alias: 'corp',
      kind: 'oauth2',
      display_name: 'Contoso Europe corporate directory (staff and contractors)',
      authorization_endpoint: 'https://sso.contoso.example/authorize',
      token_endpoint: 'https://sso.contoso.example/token',
      userinfo_endpoint: 'https://sso.contoso.example/userinfo',
      client_id: 'sweep',
      client_secret: 'sweep-secret',
      scopes: ['profile'],
    });
    const browser = await launchChromium();

    for (const locale of LOCALES) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ name: 'gatehouse.lang', value: locale, url: issuer }]);
      // The application's callback is not running: answer it here.
      await context.route('https://app.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>app</title><p>back in the app</p>' }));
      const page = await context.newPage();
      // A user per language: consent is remembered across sign-ins, so a user who allowed the apps
      // in an earlier language would see no consent page in this one.
      const username = `alice-${locale.toLowerCase()}`;
      await gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: `${username}@example.com`, emailVerified: true, givenName: 'Alice', familyName: 'Liddell', name: 'Alice Liddell' });
      /** The sign-in form, filled in and sent. */
      const signIn = async (login: string, password = PASSWORD) => {
        await page.fill('input[name="login"]', login);
        await page.fill('input[name="password"]', password);
        await page.click('form[action$="/login"] button[type="submit"]');
      };
      /** A new authorization request from no session (the language kept), signed in as `login`. */
      const signInAfresh = async (login: string) => {
        await context.clearCookies();
        await context.addCookies([{ name: 'gatehouse.lang', value: locale, url: issuer }]);
        await page.goto((await authorizationRequest(web, REDIRECT_URI)).url.toString());
        await signIn(login);
      };

      // Sign-in, a wrong password, consent.
      await page.goto((await authorizationRequest(web, REDIRECT_URI)).url.toString());
      await page.waitForSelector('input[name="login"]');
      await shoot(page, locale, 'sign-in');
      await signIn(username, 'not the password');
      await page.waitForSelector('[role=alert]');
      await shoot(page, locale, 'sign-in-failed');
      await signIn(username);
      await page.waitForSelector('#page-title');
      await shoot(page, locale, 'consent');
      await page.click('form[action$="/confirm"] button[type="submit"]');
      await page.waitForURL((url) => url.hostname === 'app.example.com');
      // Consent again for an API's scopes (named by the API's display name) and offline access.
      await page.goto((await authorizationRequest(web, REDIRECT_URI, { resource: API, scope: 'openid profile email offline_access read write', prompt: 'consent' })).url.toString());
      await page.waitForSelector('form[action$="/confirm"]');
      await shoot(page, locale, 'consent-api');
      await page.click('form[action$="/confirm"] button[type="submit"]');
      await page.waitForURL((url) => url.hostname === 'app.example.com');
      // A return from an upstream provider that does not belong to any sign-in in this browser.
      await page.goto(`${issuer}/upstream/github/callback?code=sweep&state=sweep`);
      await page.waitForSelector('#page-title');
      await shoot(page, locale, 'upstream-error');

      // Device code: entry, a wrong code, confirmation (already signed in), success.
      const device = await fetch(deviceEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: tv.client.clientId, scope: 'openid profile' }) });
      const { user_code: userCode } = (await device.json()) as { user_code: string };
      await page.goto(`${issuer}/device`);
      await page.waitForSelector('#user_code');
      await shoot(page, locale, 'device-input');
      await page.fill('#user_code', 'BCDF-GHJK');
      await page.click('button[type="submit"]');
      await page.waitForSelector('[role=alert]');
      await shoot(page, locale, 'device-input-wrong-code');
      await page.fill('#user_code', userCode);
      await page.click('button[type="submit"]');
      await page.waitForSelector('#page-title');
      if ((await page.locator('input[name="login"]').count()) > 0) await signIn(username);
      await page.waitForSelector('form button[type="submit"]');
      await shoot(page, locale, 'device-confirm');
      await page.locator('form button[type="submit"]').first().click();
      await page.waitForLoadState('load');
      // The TV is no first-party app: consent first.
      if ((await page.locator('form[action$="/confirm"]').count()) > 0) {
        await shoot(page, locale, 'device-consent');
        await page.click('form[action$="/confirm"] button[type="submit"]');
        await page.waitForLoadState('load');
      }
      await shoot(page, locale, 'device-success');

      // Sign-out: the question, then signed out.
      await page.goto(`${issuer}/session/end`);
      await page.waitForSelector('button[name="logout"]');
      await shoot(page, locale, 'sign-out');
      await page.click('button[name="logout"]');
      await page.waitForLoadState('load');
      await shoot(page, locale, 'signed-out');

      // Errors: an unknown client (the provider's error page), a page nobody serves.
      await page.goto(`${issuer}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb`);
      await page.waitForSelector('#page-title');
      await shoot(page, locale, 'error');
      await page.goto(`${issuer}/no-such-page`);
      await page.waitForSelector('#page-title');
      await shoot(page, locale, 'not-found');

      // Registration from the sign-in page.
      await page.goto((await authorizationRequest(web, REDIRECT_URI)).url.toString());
      await page.click('a[href$="/register"]');
      await page.waitForSelector('#email');
      await shoot(page, locale, 'register');
      await page.fill('#email', `sweep-${locale}@example.com`);
      await page.fill('#password', 'a long registration passphrase');
      await page.fill('#confirm', 'a long registration passphrase');
      await page.click('form button[type="submit"]');
      await page.waitForLoadState('load');
      await shoot(page, locale, 'register-sent');

      // Password reset: the form, sent, the link from the mail.
      await page.goto(`${issuer}/password/forgot`);
      await page.waitForSelector('#login');
      await shoot(page, locale, 'password-forgot');
      // One user per language: the links a user may ask for in an hour are limited.
      const email = `reset-${locale.toLowerCase()}@example.com`;
      await gatehouse.services.accounts.createUser({ username: `reset-${locale.toLowerCase()}`, password: PASSWORD, email, emailVerified: true });
      await page.fill('#login', email);
      await page.click('form button[type="submit"]');
      await page.waitForLoadState('load');
      await shoot(page, locale, 'password-forgot-sent');
      // The registration's confirmation mail may come first.
      let link: string | undefined;
      while (link === undefined) link = /https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]{43}/.exec((await inbox.next()).text ?? '')?.[0];
      await page.goto(link);
      await page.waitForSelector('#page-title');
      await shoot(page, locale, 'password-reset');

      // Second factor: enrolment (a role that requires one), recovery codes, then the code on the next sign-in.
      const mfaUser = `finance-${locale.toLowerCase()}`;
      await gatehouse.services.accounts.createUser({ username: mfaUser, password: PASSWORD, roles: ['finance'] });
      await signInAfresh(mfaUser);
      await page.waitForSelector('#secret');
      await shoot(page, locale, 'mfa-enrol');
      const secret = (await page.textContent('#secret'))!.replace(/\s/g, '');
      await page.fill('#code', totpCode(secret, new Date()));
      await page.click('#code ~ button[type="submit"], form:has(#code) button[type="submit"]');
      await page.waitForSelector('.recovery-codes');
      await shoot(page, locale, 'mfa-recovery-codes');
      await signInAfresh(mfaUser);
      await page.waitForSelector('#code');
      await shoot(page, locale, 'mfa-verify');
      await context.close();

      await browserApps(browser, issuer, locale, operator.id, cast.web.clientId);
    }
  } finally {
    // The handle's close() leaves the shared browser running; this process must end it.
    await closeSharedBrowser();
    await gatehouse.close();
    // Reported, not thrown: a failed clean-up must not hide what went wrong in the sweep.
    await deploy.drop().catch((error: unknown) => console.error('could not drop the sweep database:', error));
    await inbox.close();
  }
  console.log(`${shots} screenshots in ${OUT}`);
  console.log(`${problems.length} problems`);
  if (problems.length > 0) process.exitCode = 1;
}

await main();
