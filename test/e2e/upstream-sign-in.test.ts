import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { expectAccessible, launchChromium } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { authorizationRequest, freshFlowPage, webApp, type CodeFlow, type FlowChecks } from './sign-in.ts';
import { secondGatehouseUpstream, SYSTEM_ACTOR, type UpstreamPair } from './upstream.ts';

/**
 * Sign in with another provider, end to end: a second Gatehouse (its own database, on
 * `localhost` so the two never share cookies) is the upstream OpenID provider of the Gatehouse
 * under test (on 127.0.0.1); headless Chromium walks the pages; the application redeems its code
 * with openid-client.
 */
/** 400 characters: a valid upstream `website`, longer than a local `name` may be. */
const LONG_WEBSITE = `https://lena.example/${'w'.repeat(400 - 'https://lena.example/'.length)}`;

/** The page after a new account was created without the upstream's address (views/locales). */
const CREATED_WITHOUT_EMAIL = {
  en: { title: 'Your account is created', lead: 'It has no email address' },
  ru: { title: 'Учётная запись создана', lead: 'У неё нет адреса электронной почты' },
  'zh-CN': { title: '您的账户已创建', lead: '该账户没有电子邮件地址' },
  ko: { title: '계정이 만들어졌습니다', lead: '이 계정에는 이메일 주소가 없습니다' },
} as const;
const NOTICE_LOCALES = Object.keys(CREATED_WITHOUT_EMAIL) as Array<keyof typeof CREATED_WITHOUT_EMAIL>;

describe('upstream OpenID Connect sign-in in headless Chromium (a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  const app = new RelyingPartyServer();
  let pair: UpstreamPair;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let flow: CodeFlow;

  const addProvider = (alias: string, extra: Record<string, unknown> = {}) =>
    pair.addProvider(alias, { scopes: ['openid', 'profile', 'email', 'roles'], claims: { username: 'preferred_username' }, role_mappings: [{ claim: 'roles', value: 'staff', role: 'employee' }], ...extra });

  /** Opens a new authorization request of the portal in the page. */
  const begin = (extra: Record<string, string> = {}) => flow.start({ scope: 'openid profile email roles', ...extra });

  /** Back in the app: redeems the code; the ID token's claims and userinfo. */
  async function redeem(checks: FlowChecks) {
    const tokens = await flow.grant(checks);
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(portal, tokens.access_token, claims.sub);
    return { claims, userinfo };
  }

  /** At the upstream Gatehouse's sign-in page: signs in there. */
  const upstreamSignIn = (username: string) => pair.signInUpstream(page, username);

  async function freshBrowser() {
    ({ context, page, flow } = await freshFlowPage(browser, context, portal, app));
  }

  async function auditTypes(): Promise<string[]> {
    await pair.gatehouse.flushBatchedWrites();
    const page = await pair.gatehouse.audit.query({ limit: 200, types: ['upstream.signin', 'upstream.account_created', 'upstream.linked', 'upstream.refused'] });
    return page.events.map((event) => `${event.type}${event.details.reason === undefined ? '' : `:${String(event.details.reason)}`}`);
  }

  before(async () => {
    await app.start();
    pair = await secondGatehouseUpstream('e2e_upstream', {
      aliases: ['corp', 'mail', 'domains', 'off', 'down', 'home', 'long'],
      scope: 'openid profile email roles',
      users: [
        { username: 'uma', email: 'uma@corp.example', emailVerified: true, name: 'Uma Upstream', roles: ['staff'] },
        { username: 'vic', email: 'vic@elsewhere.example', emailVerified: true, name: 'Vic' },
        { username: 'una', email: 'victor@corp.example', emailVerified: false, name: 'Una Verified-Not' },
        { username: 'wes', email: 'victor@corp.example.org', emailVerified: true, name: 'Wes' },
        { username: 'ola', email: 'ola@corp.example', emailVerified: true, name: 'Ola' },
        // A profile claim longer than a local name may be (256): mapped to `name` by the provider 'long'.
        { username: 'lena', email: 'lena@corp.example', emailVerified: true, name: 'Lena', attributes: { website: LONG_WEBSITE } },
        // Addresses that local accounts hold, confirmed (one upstream user per language of the notice).
        ...NOTICE_LOCALES.map((locale) => ({ username: `nia-${locale.toLowerCase()}`, email: `nia.${locale.toLowerCase()}@corp.example`, emailVerified: true, name: 'Nia' })),
      ],
    });
    await pair.gatehouse.services.accounts.createUser({ username: 'victor', password: PASSWORD, email: 'victor@corp.example', emailVerified: true });
    portal = await webApp(pair.gatehouse, pair.downDeploy.issuer, app, { displayName: 'Portal', scope: 'openid profile email roles' });
    await addProvider('corp');
    browser = await launchChromium();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await pair?.close();
    await app.close();
  });

  it('creates the account just in time on the first sign-in: roles mapped, amr fed, the link stored', async () => {
    await freshBrowser();
    const checks = await begin();
    await page.waitForSelector('a.upstream[data-provider=corp]');
    await expectAccessible(page, 'upstream-login-buttons');
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('uma');
    await page.waitForSelector('#upstream-create');
    expect(await page.textContent('.upstream-pending')).to.contain('Corp corp');
    await expectAccessible(page, 'upstream-pending');
    await page.click('#upstream-create');
    const { claims, userinfo } = await redeem(checks);
    expect(claims.amr).to.include('fed');
    expect(userinfo.preferred_username).to.equal('uma');
    expect(userinfo.email).to.equal('uma@corp.example');
    expect(userinfo.roles).to.deep.equal(['employee']);
    const links = await pair.gatehouse.services.upstream.linksOf(claims.sub);
    expect(links.map((link) => link.provider)).to.deep.equal(['corp']);
    const created = await pair.gatehouse.services.accounts.findById(claims.sub);
    expect(created?.passwordChangedAt, 'an upstream-only account has no password').to.equal(null);

    // Signed in at the upstream already, and linked: straight back to the application.
    await page.context().clearCookies({ domain: '127.0.0.1' });
    const again = await begin();
    await page.click('a.upstream[data-provider=corp]');
    const second = await redeem(again);
    expect(second.claims.sub).to.equal(claims.sub);
    expect(await auditTypes()).to.include.members(['upstream.account_created', 'upstream.signin']);
    // A sign-in through the provider is a sign-in: operators see it as the user's last (console, admin API).
    await pair.gatehouse.flushBatchedWrites();
    const shown = await pair.gatehouse.services.users.withLastSignIn((await pair.gatehouse.services.accounts.findById(claims.sub))!);
    expect(shown.lastLoginAt, 'last sign-in of an upstream-only user').to.be.instanceOf(Date);
  });

  it('creates the account when a profile claim is longer than the local attribute may be: shortened, never a failed sign-in', async () => {
    await addProvider('long', { claims: { username: 'preferred_username', name: 'website' } });
    await freshBrowser();
    const checks = await begin();
    await page.click('a.upstream[data-provider=long]');
    await upstreamSignIn('lena');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    const { claims, userinfo } = await redeem(checks);
    expect(LONG_WEBSITE).to.have.length(400);
    expect(userinfo.name, 'the 400-character claim, cut to the 256 characters a name may have').to.equal(LONG_WEBSITE.slice(0, 256));
    expect(userinfo.email).to.equal('lena@corp.example');
    expect((await pair.gatehouse.services.upstream.linksOf(claims.sub)).map((link) => link.provider)).to.deep.equal(['long']);
  });

  it('a new account whose address a local account holds (confirmed) is created without it, and the next page says so in every language — naming no account', async () => {
    for (const locale of NOTICE_LOCALES) {
      const slug = locale.toLowerCase();
      const email = `nia.${slug}@corp.example`;
      const holder = await pair.gatehouse.services.accounts.createUser({ username: `holder-${slug}`, password: PASSWORD, email, emailVerified: true });
      await freshBrowser();
      const checks = await begin({ ui_locales: locale });
      await page.click('a.upstream[data-provider=corp]');
      await upstreamSignIn(`nia-${slug}`);
      await page.waitForSelector('#upstream-create');
      await page.click('#upstream-create');
      await page.waitForSelector('#upstream-continue');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await page.textContent('h1')).to.equal(CREATED_WITHOUT_EMAIL[locale].title);
      const lead = (await page.textContent('.lead'))!;
      expect(lead).to.contain(CREATED_WITHOUT_EMAIL[locale].lead).and.to.contain(email).and.to.contain('Corp corp');
      expect(lead, 'no account named').to.not.contain(holder.username);
      await expectAccessible(page, `upstream-created-without-email-${locale}`);
      // Its language links show the notice again in the language picked (they led back to the sign-in page).
      const other = NOTICE_LOCALES[(NOTICE_LOCALES.indexOf(locale) + 1) % NOTICE_LOCALES.length]!;
      await Promise.all([page.waitForNavigation(), page.click(`nav.languages a[lang="${other}"]`)]);
      expect(new URL(page.url()).pathname, 'the notice’s own page').to.match(/\/upstream-created$/);
      expect(await page.getAttribute('html', 'lang')).to.equal(other);
      expect(await page.textContent('h1')).to.equal(CREATED_WITHOUT_EMAIL[other].title);
      expect(await page.textContent('.lead')).to.contain(CREATED_WITHOUT_EMAIL[other].lead).and.to.contain(email).and.to.contain('Corp corp');
      await page.click('#upstream-continue');
      const { claims, userinfo } = await redeem(checks);
      expect(claims.sub).to.not.equal(holder.id);
      expect(userinfo.email, 'the new account has no address').to.equal(undefined);
      expect((await pair.gatehouse.services.accounts.findById(holder.id))?.email, 'the confirmed holder keeps it').to.equal(email);
    }
  });

  it('links to an existing local account only after the person signs in with it', async () => {
    await freshBrowser();
    const checks = await begin();
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('vic');
    await page.waitForSelector('.upstream-pending');
    await page.fill('#username', 'victor');
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    const { claims } = await redeem(checks);
    const victor = await pair.gatehouse.services.accounts.findByLogin('victor');
    expect(claims.sub).to.equal(victor!.id);
    expect(claims.amr).to.include.members(['pwd', 'fed']);
    expect((await pair.gatehouse.services.upstream.linksOf(victor!.id)).map((link) => link.provider)).to.deep.equal(['corp']);
    expect(await auditTypes()).to.include('upstream.linked');
  });

  it('goes straight to the provider on idp_hint', async () => {
    await freshBrowser();
    await begin({ idp_hint: 'corp' });
    await page.waitForURL((current) => current.origin === pair.upDeploy.issuer);
  });

  it('keeps a hide_on_login provider off the sign-in page; Keycloak’s kc_idp_hint goes straight to it; an unknown or disabled alias shows the usual page', async () => {
    // Its own client at the upstream: the shared one's redirect URIs are fixed in before().
    const registered = await pair.upstream.services.clients.create({
      displayName: 'Gatehouse downstream (hidden)',
      firstParty: true,
      metadata: { redirect_uris: [pair.callback('hidden')], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email' },
    });
    await addProvider('hidden', { hide_on_login: true, client_id: registered.client.clientId, client_secret: registered.secret!, scopes: ['openid', 'profile', 'email'], role_mappings: [] });
    await addProvider('hidden-off', { hide_on_login: true, enabled: false });

    await freshBrowser();
    await begin();
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await page.locator('a.upstream[data-provider=hidden]').count(), 'no button for a hidden provider').to.equal(0);

    for (const hint of ['no-such-provider', 'hidden-off']) {
      await freshBrowser();
      const { url } = await authorizationRequest(portal, app, { scope: 'openid profile email roles', kc_idp_hint: hint });
      const response = await page.goto(url);
      expect(response?.status(), hint).to.equal(200);
      await page.waitForSelector('#username');
      await page.waitForSelector('a.upstream[data-provider=corp]');
      expect(await page.textContent('main'), 'the page says nothing about the alias').to.not.contain(hint);
    }

    await freshBrowser();
    await begin({ kc_idp_hint: 'hidden' });
    await upstreamSignIn('uma');
    // Back from the hidden provider: uma's identity there is not linked yet.
    await page.waitForSelector('.upstream-pending');
    expect(await page.textContent('.upstream-pending')).to.contain('Corp hidden');
  });

  it('sends a typed email in a home domain to its provider, with the email as login_hint', async () => {
    await addProvider('home', { home_domains: ['home.example'] });
    await freshBrowser();
    await begin();
    await page.fill('#username', 'kim@Home.example');
    await page.fill('#password', 'anything');
    await page.click('form[action$="/login"] button.primary');
    await page.waitForURL((current) => current.origin === pair.upDeploy.issuer);
    expect(await page.inputValue('#username')).to.equal('kim@Home.example');
  });

  it('refuses an unverified email when linking by email, and says why in every language', async () => {
    await addProvider('mail', { link_by_email: true });
    for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
      await freshBrowser();
      await begin({ ui_locales: locale });
      await page.click('a.upstream[data-provider=mail]');
      await upstreamSignIn('una');
      await page.waitForSelector('#upstream-back');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(page, `upstream-error-unverified-${locale}`);
    }
    expect(await page.textContent('main')).to.match(/mail/);
    // Never stranded: back to the sign-in page of the same request.
    await page.click('#upstream-back');
    await page.waitForSelector('a.upstream[data-provider=mail]');
    expect(await auditTypes()).to.include('upstream.refused:email_unverified');
    const victor = await pair.gatehouse.services.accounts.findByLogin('victor');
    expect((await pair.gatehouse.services.upstream.linksOf(victor!.id)).map((link) => link.provider)).to.not.include('mail');
  });

  it('links by a verified email automatically when the provider says so', async () => {
    await freshBrowser();
    const checks = await begin();
    await page.click('a.upstream[data-provider=mail]');
    await upstreamSignIn('uma');
    const { claims } = await redeem(checks);
    const owner = await pair.gatehouse.services.accounts.findByLogin('uma@corp.example');
    expect(claims.sub).to.equal(owner!.id);
    expect((await pair.gatehouse.services.upstream.linksOf(owner!.id)).map((link) => link.provider)).to.include('mail');
    await pair.gatehouse.flushBatchedWrites();
    const linked = await pair.gatehouse.audit.query({ limit: 50, types: ['upstream.linked'] });
    expect(linked.events.map((event) => `${String(event.details.provider)}:${String(event.details.by)}`)).to.include('mail:verified_email');
  });

  it('links by email only to a local account whose own address is confirmed: an unconfirmed one (typed on an account page) gets nobody else\'s sign-ins', async () => {
    // Mallory typed Ola's address on her own account page (unconfirmed); Ola has no account here yet.
    const mallory = await pair.gatehouse.services.accounts.createUser({ username: 'mallory', password: PASSWORD, email: 'ola@corp.example', emailVerified: false });
    await freshBrowser();
    await begin();
    await page.click('a.upstream[data-provider=mail]');
    await upstreamSignIn('ola');
    // Not linked: the usual choice (sign in with an account here, or create one).
    await page.waitForSelector('.upstream-pending');
    expect(await pair.gatehouse.services.upstream.linksOf(mallory.id)).to.deep.equal([]);
  });

  it('refuses an email outside the allowed domains', async () => {
    await addProvider('domains', { allowed_domains: ['corp.example'] });
    await freshBrowser();
    await begin();
    await page.click('a.upstream[data-provider=domains]');
    await upstreamSignIn('wes');
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('not allowed to sign in here');
    expect(await auditTypes()).to.include('upstream.refused:domain');
  });

  it('brings an upstream cancellation back to a friendly page with a way back', async () => {
    await freshBrowser();
    await begin();
    await page.click('a.upstream[data-provider=corp]');
    await page.waitForURL((current) => current.origin === pair.upDeploy.issuer);
    await page.click('form[action$="/abort"] button');
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('cancelled or refused');
    await page.click('#upstream-back');
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await auditTypes()).to.include('upstream.refused:denied');
  });

  it('refuses a callback with the wrong state, and a replayed callback', async () => {
    await freshBrowser();
    await begin();
    let callbackUrl: string | undefined;
    page.on('request', (request) => {
      if (request.url().startsWith(pair.callback('corp'))) callbackUrl ??= request.url();
    });
    await page.click('a.upstream[data-provider=corp]');
    await page.waitForURL((current) => current.origin === pair.upDeploy.issuer);
    const forged = await page.goto(`${pair.callback('corp')}?code=forged&state=not-the-state`);
    expect(forged?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('expired or was already used');

    // A real round trip, then the same callback URL again.
    const retry = await begin();
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('uma');
    await redeem(retry);
    expect(callbackUrl).to.be.a('string');
    const replay = await page.goto(callbackUrl!);
    expect(replay?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('expired or was already used');
    expect(await auditTypes()).to.include('upstream.refused:state');
  });

  it('hides a disabled provider and refuses to start it', async () => {
    await addProvider('off', { enabled: false });
    await freshBrowser();
    await begin();
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await page.locator('a.upstream[data-provider=off]').count()).to.equal(0);
    const start = await page.goto(page.url().replace(/\/?$/, '/upstream/off'));
    expect(start?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('not available for this application');
  });

  it('authenticates to the upstream with private_key_jwt (no secret), the key stored sealed', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const registered = await pair.upstream.services.clients.create({
      displayName: 'Gatehouse downstream (key)',
      firstParty: true,
      metadata: {
        redirect_uris: [pair.callback('keyed')],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] },
        scope: 'openid profile email',
      },
    });
    const shown = upstreamOperations(pair.gatehouse.services).show(
      await upstreamOperations(pair.gatehouse.services).create(SYSTEM_ACTOR, {
        alias: 'keyed',
        kind: 'oidc',
        issuer: pair.upDeploy.issuer,
        client_id: registered.client.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        private_key_jwk: { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' },
      }),
    );
    expect(shown).to.deep.include({ has_secret: false, has_private_key: true });
    expect(JSON.stringify(shown)).to.not.contain('"d"');
    await freshBrowser();
    await begin();
    await page.click('a.upstream[data-provider=keyed]');
    await upstreamSignIn('vic');
    // The code was redeemed with a signed client assertion: the identity came back (not linked to this provider yet).
    await page.waitForSelector('.upstream-pending');
  });

  it('answers a friendly page, not a 500, when the provider cannot be reached', async () => {
    await addProvider('down', { issuer: 'http://127.0.0.1:9' });
    await freshBrowser();
    await begin();
    await page.waitForSelector('a.upstream[data-provider=down]');
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/upstream/down')), page.click('a.upstream[data-provider=down]')]);
    expect(response.status()).to.equal(502);
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('cannot be reached right now');
    await expectAccessible(page, 'upstream-error-unreachable');
  });
});
