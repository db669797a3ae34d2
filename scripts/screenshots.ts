/**
 * Screenshot sweep: every hosted page a person meets (sign-in, wrong password,
 * consent, second-factor enrolment, recovery codes and code entry, registration, password
 * reset, device code entry, confirmation and success, sign-out, errors, the 404 page) in en, ru,
 * zh-CN and ko, at 1280 and 390 px, light and dark, into test-artifacts/screenshots/sweep/.
 * Each shot is also checked: nothing wider than the viewport, no serious or critical axe
 * violation, the page's lang; the findings are printed at the end (exit 1 when there are any).
 *
 * Then values at their longest (long-*: longValues()), states the flows do not reach (state-*:
 * renderedStates()), and the account page's sections and every console page, signed in as an
 * operator, the same way (the browser's language picks theirs).
 *
 * Run with `npm run screenshots` (scripts/screenshots brings up the test services).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration as oidcConfig } from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_PASSWORD_POLICY } from '../src/accounts/password-policy.ts';
import { CONSOLE_CLIENT_ID } from '../src/clients/console-client.ts';
import { HOSTED_FORM_LIMIT } from '../src/interactions/body.ts';
import { dataSize } from '../src/interactions/data-size.ts';
import { languageLinks } from '../src/interactions/language.ts';
import { passwordRequirements, unmetRequirements } from '../src/interactions/password-rules.ts';
import { createViews, type PageModel } from '../src/interactions/views.ts';
import type { Locale } from '../src/interactions/i18n.ts';
import { totpCode } from '../src/mfa/totp.ts';
import { upstreamOperations } from '../src/operations/upstream.ts';
import { closeSharedBrowser, darkSchemeViolations, launchChromium, POLLING, seriousViolations } from '../test/e2e/browser.ts';
import { adminClient, callAdmin } from '../test/helpers/admin.ts';
import { API, authorizationRequest, deployment, givePasskeyRecord, PASSWORD, REDIRECT_URI, relyingParty, seed } from '../test/helpers/e2e.ts';
import { startInbox } from '../test/helpers/smtp-inbox.ts';

/** `--locale=ru,ko` limits the sweep to those languages (a sweep of all four takes long on a busy machine). */
const chosenLocales = process.argv.slice(2).filter((arg) => arg.startsWith('--locale=')).flatMap((arg) => arg.slice('--locale='.length).split(','));
const LOCALES = (['en', 'ru', 'zh-CN', 'ko'] as const).filter((locale) => chosenLocales.length === 0 || chosenLocales.includes(locale));
const WIDTHS = [1280, 390] as const;
const SCHEMES = ['light', 'dark'] as const;
const OUT = join(process.cwd(), 'test-artifacts', 'screenshots', 'sweep');
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--locale='));

/** Whether the sweep is asked for any page whose name starts with one of `prefixes` (a part of the sweep with none is skipped). */
const wants = (...prefixes: string[]): boolean => only.length === 0 || only.some((wanted) => prefixes.some((prefix) => prefix.startsWith(wanted) || wanted.startsWith(prefix)));

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
async function browserApps(browser: Browser, issuer: string, locale: string, operatorId: string, webClientId: string, long: LongCast): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const page = await context.newPage();
  await page.goto(`${issuer}/account/`);
  // The page a visitor without a session meets, once its silent try (prompt=none) has come back.
  await page.locator('main button').waitFor();
  await shoot(page, locale, 'account-sign-in');
  await page.locator('main button').click();
  await page.waitForSelector('#username');
  await page.fill('#username', 'operator');
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
  await page.locator('main button').waitFor();
  await shoot(page, locale, 'console-sign-in');
  await page.locator('main button').click();
  await page.locator('[data-testid="count-users"]').waitFor();
  const routes = ['', 'users', `users/${operatorId}`, 'clients', `clients/${CONSOLE_CLIENT_ID}`, 'apis', 'claim-scopes', 'upstream', 'roles', 'lockouts', 'keys', 'audit', 'settings', 'settings/sign-in', 'settings/security'];
  for (const route of routes) {
    await drawn(page, `${issuer}/console/#/${route}`, route === '' ? '#/' : `#/${route.split('/')[0]}`);
    const name = route === '' ? 'dashboard' : route.startsWith('settings/') ? route.replace('/', '-') : route.includes('/') ? `${route.split('/')[0]}-item` : route;
    await shoot(page, locale, `console-${name}`);
  }
  // Round 24's pages: a confidential app's secret, its rotation asked with a grace period, then done
  // (the new secret once, the old one's end); a client, claim scope and upstream provider a Keycloak import made.
  await drawn(page, `${issuer}/console/#/clients/${long.clientId}`, '#/clients');
  await page.locator('select[name="grace"]').selectOption('604800');
  await page.locator('#rotate-heading ~ div > button.danger').first().click();
  await page.locator('#rotate-heading ~ div .confirm button').first().waitFor();
  await shoot(page, locale, 'console-clients-rotate');
  await page.locator('#rotate-heading ~ div .confirm button').first().click();
  await page.locator('#secret-heading').waitFor();
  await shoot(page, locale, 'console-clients-rotated');
  for (const [route, name] of [['clients/kc-web', 'clients-imported'], ['claim-scopes/department', 'claim-scopes-imported'], ['upstream/kc-corp', 'upstream-imported']] as const) {
    await drawn(page, `${issuer}/console/#/${route}`, `#/${route.split('/')[0]}`);
    await shoot(page, locale, `console-${name}`);
  }
  // The long values' user and app (longValues()): their pages, and the lists that hold them.
  for (const [route, name] of [[`users/${long.userId}`, 'users-long'], [`clients/${long.clientId}`, 'clients-long']] as const) {
    await drawn(page, `${issuer}/console/#/${route}`, `#/${route.split('/')[0]}`);
    await shoot(page, locale, `console-${name}`);
  }
  await context.close();
}

/**
 * Values at their longest, as people and operators really type them: an application's name of 200
 * characters (with its website, privacy and terms links), a long email address and full name, a
 * user with five devices signed in and three apps. Pages: long-*, and console-*-long above.
 */
/** U+202E RIGHT-TO-LEFT OVERRIDE: in a name, it would reverse the rest of the sentence if the name were not isolated. */
const OVERRIDE = '\u202E';
const LONG_APP_NAME =
  'Northwind Traders Procurement, Invoicing and Supplier Relationship Management Portal for the European, Middle Eastern and African Regional Subsidiaries (Production Environment, Managed by Group IT)';
/** A realm export's client, claim scope and identity provider, as kc.sh export writes them. */
const KEYCLOAK_REALM = {
  realm: 'acme-production',
  enabled: true,
  clients: [{ clientId: 'kc-web', name: 'Intranet', enabled: true, publicClient: false, clientAuthenticatorType: 'client-secret', secret: 'kc-secret', standardFlowEnabled: true, redirectUris: ['https://intranet.example.com/cb'], webOrigins: [] }],
  clientScopes: [
    {
      name: 'department',
      protocol: 'openid-connect',
      attributes: {},
      protocolMappers: [{ name: 'dept', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'dept', 'claim.value': 'sales', 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
    },
  ],
  identityProviders: [
    { alias: 'kc-corp', displayName: 'Acme staff directory', providerId: 'oidc', enabled: true, trustEmail: false, config: { clientId: 'gatehouse', clientSecret: 'idp-secret', issuer: 'https://corp.example.com', authorizationUrl: 'https://corp.example.com/auth', tokenUrl: 'https://corp.example.com/token', clientAuthMethod: 'client_secret_post' } },
  ],
};
interface LongCast {
  readonly clientId: string;
  readonly userId: string;
}

/** A device the long user signs in from, by its browser's user agent (the account page names them). */
const DEVICES = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
];

async function longValues(browser: Browser, issuer: string, locale: Locale, long: LongCast, username: string, givePasskey: () => Promise<void>, clients: { readonly long: oidcConfig; readonly web: oidcConfig }): Promise<void> {
  /** A browser (one device) in this language, the apps' callbacks answered here. */
  const device = async (userAgent?: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale, ...(userAgent === undefined ? {} : { userAgent }) });
    await context.addCookies([{ name: 'gatehouse.lang', value: locale, url: issuer }]);
    await context.route('https://app.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>app</title><p>back in the app</p>' }));
    return { context, page: await context.newPage() };
  };
  const signIn = async (page: Page) => {
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('form[action$="/login"] button[type="submit"]');
  };
  const { context, page } = await device();
  await page.goto((await authorizationRequest(clients.long, REDIRECT_URI)).url.toString());
  await page.waitForSelector('input[name="username"]');
  await shoot(page, locale, 'long-sign-in');
  await signIn(page);
  await page.waitForSelector('form[action$="/confirm"]');
  await shoot(page, locale, 'long-consent');
  await page.click('form[action$="/confirm"] button[type="submit"]');
  await page.waitForURL((url) => url.hostname === 'app.example.com');
  // Sign-out asked by the app (its name in the question), then the way back to its website.
  await page.goto(`${issuer}/session/end?${new URLSearchParams({ client_id: long.clientId })}`);
  await page.waitForSelector('button[name="logout"]');
  await shoot(page, locale, 'long-sign-out');
  await page.click('button[name="logout"]');
  await page.waitForSelector('#page-title');
  await shoot(page, locale, 'long-signed-out');
  await context.close();
  // Four more devices, each signed in to an app: the account page lists five sessions and three apps.
  for (const [index, userAgent] of DEVICES.entries()) {
    const other = await device(userAgent);
    await other.page.goto((await authorizationRequest(index % 2 === 0 ? clients.web : clients.long, REDIRECT_URI)).url.toString());
    await signIn(other.page);
    await other.page.waitForURL((url) => url.hostname === 'app.example.com' || url.pathname.includes('/interaction/'));
    if ((await other.page.locator('form[action$="/confirm"]').count()) > 0) {
      await other.page.click('form[action$="/confirm"] button[type="submit"]');
      await other.page.waitForURL((url) => url.hostname === 'app.example.com');
    }
    await other.context.close();
  }
  const account = await device();
  await account.page.goto(`${issuer}/account/`);
  await account.page.locator('main button').click();
  await account.page.waitForSelector('#username');
  await signIn(account.page);
  await account.page.locator('main h1').waitFor();
  for (const name of ['profile', 'sessions', 'apps']) {
    await drawn(account.page, `${issuer}/account/#/${name}`, `#/${name}`);
    await shoot(account.page, locale, `long-account-${name}`);
  }
  // A passkey (a record as one made elsewhere leaves it, after the sign-ins above: it makes the next one ask for it) listed on the security section.
  await givePasskey();
  await drawn(account.page, `${issuer}/account/#/security`, '#/security');
  await shoot(account.page, locale, 'long-account-security');
  await account.context.close();
}

/**
 * Pages a sweep's flows do not reach on their own — a store outage (503), the busy page, a form
 * over the hosted pages' limit (413), expired links, the email-confirmation step, a second factor before a password reset, an upstream
 * sign-in's steps, too many device codes — rendered by the real templates and served at the
 * issuer's origin (its stylesheet, its CSP-free preview), as expected-pages does for the busy page.
 * Pages: state-*.
 */
async function renderedStates(browser: Browser, issuer: string, locale: Locale): Promise<void> {
  const views = createViews({
    directory: fileURLToPath(new URL('../views', import.meta.url)),
    brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: 'https://help.example.com/sso' },
  });
  const t = views.translate(locale);
  const base = { csrf: 'csrf', uid: 'sweep', languages: languageLinks(views, locale, '/interaction/sweep') };
  const longEmail = 'maximiliana.featherstonehaugh-cholmondeley@procurement.emea.northwind-traders.example.com';
  const states: ReadonlyArray<readonly [string, string, PageModel, number]> = [
    ['busy', 'busy', { title: t('busy.title'), retryUrl: '/interaction/sweep', requestId: '3f9c2a7e-5b1d-4e8a-9c0f-7d6b2e1a4c55', showReference: true }, 503],
    ['outage', 'error', { title: t('error.title'), message: t('error.server_error'), code: 'temporarily_unavailable', ownNextStep: false, requestId: '3f9c2a7e-5b1d-4e8a-9c0f-7d6b2e1a4c55', showReference: true }, 503],
    ['expired', 'error', { title: t('error.title'), message: t('error.expired'), ownNextStep: true }, 400],
    ['too-many', 'error', { title: t('error.title'), message: t('error.too_many_requests'), ownNextStep: true }, 429],
    ['form-too-large', 'error', { title: t('error.title'), message: t('error.too_large', { limit: dataSize(HOSTED_FORM_LIMIT, locale) }), ownNextStep: true }, 413],
    ['reset-link-expired', 'password-message', { title: t('password_reset_invalid.title'), lead: t('password_reset_invalid.lead', { minutes: '30' }), link: { href: '/password/forgot', label: t('self_service_links.new_link') } }, 400],
    ['verify-link-expired', 'email-verify', { title: t('email_verify_invalid.title'), lead: t('email_verify_invalid.lead'), link: { href: '/account/', label: t('self_service_links.sign_in') } }, 400],
    ['verify-link', 'email-verify', { title: t('email_verify.title'), lead: t('email_verify.lead_registration', { email: longEmail }), action: '/verify', submit: t('email_verify.submit') }, 200],
    ['verify-email', 'verify-email', { title: t('verify_email.title'), email: longEmail, verified: false, notice: t('verify_email.sent', { email: longEmail }) }, 200],
    ['invitation', 'password-reset', { title: t('invitation.title'), copy: 'invitation', action: '/password/invitation/x', minLength: 8 }, 200],
    ['invitation-done', 'password-message', { title: t('invitation_done.title'), lead: t('invitation_done.lead'), link: { href: '/account/', label: t('self_service_links.sign_in'), primary: true } }, 200],
    ['invitation-done-app', 'password-message', { title: t('invitation_done_app.title'), lead: t('invitation_done_app.lead', { app: 'Web App' }), link: { href: 'https://app.example.com/cb', label: t('invitation_done.continue', { app: 'Web App' }), primary: true } }, 200],
    ['invitation-invalid', 'password-message', { title: t('invitation_invalid.title'), lead: t('invitation_invalid.lead'), link: { href: '/account/', label: t('self_service_links.sign_in'), primary: true } }, 400],
    ['reset-mfa', 'password-reset-mfa', { title: t('password_reset_mfa.title'), code: true, codeAction: '/verify', passkeyAction: '/passkey', passkey: '{}' }, 200],
    ['upstream-pending', 'login', { title: t('login.title'), clientName: 'Web App', login: '', remember: false, upstreamPending: { provider: 'Contoso Europe corporate directory (staff and contractors)', canCreate: true } }, 200],
    // Required actions (src/interactions/steps/required-actions.ts): a temporary password's change, with a refusal; the profile.
    ['required-password', 'required-password', { title: t('required_action.password_title'), minLength: 8, requirements: t('password_policy.requirements', { rules: t('password_policy.too_short', { n: '8' }) }), error: t('required_action.password_same') }, 400],
    // A policy's numbers, each in the form it asks for (ru: 21 символа, 22 символов, одна цифра, 2 заглавных буквы; en: one digit).
    ['policy-counts', 'required-password', { title: t('required_action.password_title'), minLength: 21, requirements: passwordRequirements(t, { ...DEFAULT_PASSWORD_POLICY, minLength: 21, maxLength: 22, digits: 1, uppercase: 2, special: 5, history: 21 }), error: unmetRequirements(t, [{ rule: 'too_short', limit: 21, message: '' }, { rule: 'uppercase', limit: 2, message: '' }]) }, 400],
    ['required-profile', 'required-profile', { title: t('required_action.profile_title'), givenName: 'Maximiliana', familyName: '', error: t('required_action.profile_missing') }, 400],
    ['upstream-continue', 'upstream-continue', { title: t('upstream.continue_title'), continueHref: '/interaction/sweep' }, 200],
    ['device-blocked', 'device-blocked', { title: t('device.too_many_title'), retryUrl: '/device' }, 429],
    ['device-cancelled', 'device-cancelled', { title: t('device.cancelled_title'), retryUrl: '/device' }, 200],
    // A device's sign-in (no session yet): its way out is "Cancel connecting the device", on each of its steps.
    ['device-sign-in', 'login', { title: t('login.title'), clientName: 'Living-room TV', login: '', remember: false, forgotHref: '/password/forgot', deviceFlow: true }, 200],
    ['device-mfa-verify', 'mfa-verify', { title: t('mfa.verify_title'), deviceFlow: true }, 200],
    // A short hyphenated app name (appName(): "Living-room" never split after its hyphen) in the consent page's lead and trust sentence, and in the signed-out lead.
    ['hyphenated-consent', 'consent', { title: t('consent.title'), client: { name: 'Living-room TV', links: [] }, account: { name: 'ada@example.com', switchHref: '/switch' }, scopes: [t('scope.profile'), t('scope.email')], claims: [], apis: [] }, 200],
    ['hyphenated-signed-out', 'signed-out', { title: t('signed_out.title'), back: { name: 'Living-room TV', href: 'https://app.example.com/' } }, 200],
    // Names with a right-to-left override (U+202E): each stays inside its name, the sentence reads on.
    ['override-consent', 'consent', { title: t('consent.title'), client: { name: `Pay${OVERRIDE}roll`, links: [] }, account: { name: `ada${OVERRIDE}@example.com`, switchHref: '/switch' }, scopes: [t('scope.profile')], claims: [], apis: [] }, 200],
    ['override-sign-out', 'logout', { title: t('logout.title'), action: '/session/end/confirm', fields: {}, clientName: `Pay${OVERRIDE}roll` }, 200],
    ['override-signed-out', 'signed-out', { title: t('signed_out.title'), back: { name: `Pay${OVERRIDE}roll`, href: 'https://app.example.com/' } }, 200],
    ['override-sign-in', 'login', { title: t('login.title'), clientName: `Pay${OVERRIDE}roll`, login: '', remember: false, upstreamPending: { provider: `Con${OVERRIDE}toso`, canCreate: true } }, 200],
  ];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  for (const [name, view, model, status] of states) {
    if (!wants(`state-${name}`)) continue;
    const html = await views.render(view, locale, { ...base, ...model });
    await page.route(`${issuer}/sweep-preview`, (route) => route.fulfill({ status, contentType: 'text/html', body: html }));
    await page.goto(`${issuer}/sweep-preview`);
    await page.waitForSelector('#page-title');
    await shoot(page, locale, `state-${name}`);
    await page.unroute(`${issuer}/sweep-preview`);
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
    // A role named with a right-to-left override (U+202E) and no description (console-roles): the
    // override stays inside the name, a muted dash stands for the description.
    await gatehouse.services.roles.create(`sup${OVERRIDE}port`, '');
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
    const longApp = await gatehouse.services.clients.create({
      displayName: LONG_APP_NAME,
      firstParty: false,
      metadata: {
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: ['https://app.example.com/signed-out'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email',
        client_uri: 'https://app.example.com/',
        policy_uri: 'https://app.example.com/privacy',
        tos_uri: 'https://app.example.com/terms',
      },
    });
    const longRp = await relyingParty(issuer, longApp.client.clientId, longApp.secret!);
    // A Keycloak realm's client, claim scope and identity provider (console-*-imported: "Imported from").
    const imported = await callAdmin(gatehouse.url, await (await adminClient(gatehouse, 'sweep-ops')).token(), 'POST', '/import/keycloak', KEYCLOAK_REALM);
    if (imported.status !== 200) throw new Error(`the Keycloak import answered ${imported.status}: ${JSON.stringify(imported.body)}`);
    // The operator's GitHub account linked (account-security: the linked accounts' table).
    await gatehouse.services.upstream.link('github', '5583942', operator.id, 'octocat');
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
        await page.fill('input[name="username"]', login);
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

      const flow = wants('sign-in', 'consent', 'upstream-error', 'device-', 'sign-out', 'signed-out', 'error', 'not-found', 'register', 'password-', 'mfa-');
      if (flow) {
        // Sign-in, a wrong password, consent.
        await page.goto((await authorizationRequest(web, REDIRECT_URI)).url.toString());
        await page.waitForSelector('input[name="username"]');
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
        if ((await page.locator('input[name="username"]').count()) > 0) await signIn(username);
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
        await page.waitForSelector('#username');
        await shoot(page, locale, 'password-forgot');
        // One user per language: the links a user may ask for in an hour are limited.
        const email = `reset-${locale.toLowerCase()}@example.com`;
        await gatehouse.services.accounts.createUser({ username: `reset-${locale.toLowerCase()}`, password: PASSWORD, email, emailVerified: true });
        await page.fill('#username', email);
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
      }
      await context.close();

      const longUser = await gatehouse.services.accounts.createUser({
        username: `max-${locale.toLowerCase()}`,
        password: PASSWORD,
        email: `maximiliana.featherstonehaugh-cholmondeley.${locale.toLowerCase()}@procurement.emea.northwind-traders.example.com`,
        emailVerified: true,
        givenName: 'Maximiliana Alexandra',
        familyName: 'Featherstonehaugh-Cholmondeley von Hohenzollern-Sigmaringen',
        name: 'Maximiliana Alexandra Featherstonehaugh-Cholmondeley von Hohenzollern-Sigmaringen',
        // Custom attributes at length (console-users-long: the attributes card).
        customAttributes: { department: 'Procurement and Strategic Sourcing, Europe, Middle East and Africa', langs: ['en', 'de', 'fr'], cost_center: 'EMEA-PROC-000000000000000000000000000000000000004711' },
      });
      const long = { clientId: longApp.client.clientId, userId: longUser.id };
      // The passkey named with a right-to-left override, as one stored before names were checked (long-account-security).
      const givePasskey = async () => {
        await givePasskeyRecord(deploy, gatehouse, longUser.id);
        const [passkey] = await gatehouse.services.passkeys.list(longUser.id);
        await gatehouse.services.passkeys.rename(longUser.id, passkey!.id, `Work${OVERRIDE}key`);
      };
      if (wants('long-')) await longValues(browser, issuer, locale, long, longUser.username, givePasskey, { long: longRp, web });
      if (wants('state-')) await renderedStates(browser, issuer, locale);
      if (wants('account-', 'console-')) await browserApps(browser, issuer, locale, operator.id, cast.web.clientId, long);
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
