import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, screenshot, seriousViolations } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';

/**
 * Sign in with another provider, end to end: a second Gatehouse (its own database, on
 * `localhost` so the two never share cookies) is the upstream OpenID provider of the Gatehouse
 * under test (on 127.0.0.1); headless Chromium walks the pages; the application redeems its code
 * with openid-client.
 */
describe('upstream OpenID Connect sign-in in headless Chromium (a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  const app = new RelyingPartyServer();
  const actor = { actor: { type: 'system' as const, id: 'test' } };
  let upDeploy: Deployment;
  let downDeploy: Deployment;
  let upstream: RunningGatehouse;
  let gatehouse: RunningGatehouse;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let upstreamClient: { clientId: string; secret: string };

  const callback = (alias: string) => `${downDeploy.issuer}/upstream/${alias}/callback`;

  async function addProvider(alias: string, extra: Record<string, unknown> = {}) {
    return upstreamOperations(gatehouse.services).create(actor, {
      alias,
      kind: 'oidc',
      display_name: `Corp ${alias}`,
      issuer: upDeploy.issuer,
      client_id: upstreamClient.clientId,
      client_secret: upstreamClient.secret,
      scopes: ['openid', 'profile', 'email', 'roles'],
      claims: { username: 'preferred_username' },
      role_mappings: [{ claim: 'roles', value: 'staff', role: 'employee' }],
      ...extra,
    });
  }

  async function begin(extra: Record<string, string> = {}) {
    const checks = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: oidc.randomState() };
    const url = oidc.buildAuthorizationUrl(portal, {
      redirect_uri: `${app.origin}/cb`,
      scope: 'openid profile email roles',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      ...extra,
    });
    return { url: url.href, checks };
  }

  /** Back in the app: redeems the code; the ID token's claims and userinfo. */
  async function redeem(checks: { pkceCodeVerifier: string; expectedState: string }) {
    await page.waitForURL((url) => url.toString().startsWith(`${app.origin}/cb`));
    const tokens = await oidc.authorizationCodeGrant(portal, new URL(page.url()), checks);
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(portal, tokens.access_token, claims.sub);
    return { claims, userinfo };
  }

  /** At the upstream Gatehouse's sign-in page: signs in there. */
  async function upstreamSignIn(username: string) {
    await page.waitForURL((url) => url.origin === upDeploy.issuer);
    await page.fill('#login', username);
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
  }

  async function freshBrowser() {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    page = await context.newPage();
  }

  async function expectAccessible(name: string) {
    await screenshot(page, name);
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${JSON.stringify(violations)}`).to.deep.equal([]);
  }

  async function auditTypes(): Promise<string[]> {
    await gatehouse.flushBatchedWrites();
    const page = await gatehouse.audit.query({ limit: 200, types: ['upstream.signin', 'upstream.account_created', 'upstream.linked', 'upstream.refused'] });
    return page.events.map((event) => `${event.type}${event.details.reason === undefined ? '' : `:${String(event.details.reason)}`}`);
  }

  before(async () => {
    await app.start();
    upDeploy = await deployment('e2e_upstream_idp', { host: 'localhost' });
    downDeploy = await deployment('e2e_upstream_rp');
    upstream = await upDeploy.start();
    gatehouse = await downDeploy.start();

    const { accounts, clients } = upstream.services;
    await accounts.createUser({ username: 'uma', password: PASSWORD, email: 'uma@corp.example', emailVerified: true, name: 'Uma Upstream', roles: ['staff'] });
    await accounts.createUser({ username: 'vic', password: PASSWORD, email: 'vic@elsewhere.example', emailVerified: true, name: 'Vic' });
    await accounts.createUser({ username: 'una', password: PASSWORD, email: 'victor@corp.example', emailVerified: false, name: 'Una Verified-Not' });
    await accounts.createUser({ username: 'wes', password: PASSWORD, email: 'victor@corp.example.org', emailVerified: true, name: 'Wes' });
    const created = await clients.create({
      displayName: 'Gatehouse downstream',
      firstParty: true,
      metadata: {
        redirect_uris: ['corp', 'mail', 'domains', 'off', 'down', 'home'].map(callback),
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email roles',
      },
    });
    upstreamClient = { clientId: created.client.clientId, secret: created.secret! };

    await gatehouse.services.accounts.createUser({ username: 'victor', password: PASSWORD, email: 'victor@corp.example', emailVerified: true });
    const portalClient = await gatehouse.services.clients.create({
      displayName: 'Portal',
      firstParty: true,
      metadata: { redirect_uris: [`${app.origin}/cb`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email roles' },
    });
    portal = await oidc.discovery(new URL(downDeploy.issuer), portalClient.client.clientId, { client_secret: portalClient.secret! }, undefined, { execute: [oidc.allowInsecureRequests] });
    await addProvider('corp');
    browser = await launchChromium();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await gatehouse?.close();
    await upstream?.close();
    await app.close();
    await downDeploy?.drop();
    await upDeploy?.drop();
  });

  it('creates the account just in time on the first sign-in: roles mapped, amr fed, the link stored', async () => {
    await freshBrowser();
    const { url, checks } = await begin();
    await page.goto(url);
    await page.waitForSelector('a.upstream[data-provider=corp]');
    await expectAccessible('upstream-login-buttons');
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('uma');
    await page.waitForSelector('#upstream-create');
    expect(await page.textContent('.upstream-pending')).to.contain('Corp corp');
    await expectAccessible('upstream-pending');
    await page.click('#upstream-create');
    const { claims, userinfo } = await redeem(checks);
    expect(claims.amr).to.include('fed');
    expect(userinfo.preferred_username).to.equal('uma');
    expect(userinfo.email).to.equal('uma@corp.example');
    expect(userinfo.roles).to.deep.equal(['employee']);
    const links = await gatehouse.services.upstream.linksOf(claims.sub);
    expect(links.map((link) => link.provider)).to.deep.equal(['corp']);
    const created = await gatehouse.services.accounts.findById(claims.sub);
    expect(created?.passwordChangedAt, 'an upstream-only account has no password').to.equal(null);

    // Signed in at the upstream already, and linked: straight back to the application.
    await page.context().clearCookies({ domain: '127.0.0.1' });
    const again = await begin();
    await page.goto(again.url);
    await page.click('a.upstream[data-provider=corp]');
    const second = await redeem(again.checks);
    expect(second.claims.sub).to.equal(claims.sub);
    expect(await auditTypes()).to.include.members(['upstream.account_created', 'upstream.signin']);
  });

  it('links to an existing local account only after the person signs in with it', async () => {
    await freshBrowser();
    const { url, checks } = await begin();
    await page.goto(url);
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('vic');
    await page.waitForSelector('.upstream-pending');
    await page.fill('#login', 'victor');
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    const { claims } = await redeem(checks);
    const victor = await gatehouse.services.accounts.findByLogin('victor');
    expect(claims.sub).to.equal(victor!.id);
    expect(claims.amr).to.include.members(['pwd', 'fed']);
    expect((await gatehouse.services.upstream.linksOf(victor!.id)).map((link) => link.provider)).to.deep.equal(['corp']);
    expect(await auditTypes()).to.include('upstream.linked');
  });

  it('goes straight to the provider on idp_hint', async () => {
    await freshBrowser();
    const { url } = await begin({ idp_hint: 'corp' });
    await page.goto(url);
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
  });

  it('keeps a hide_on_login provider off the sign-in page; Keycloak’s kc_idp_hint goes straight to it; an unknown or disabled alias shows the usual page', async () => {
    // Its own client at the upstream: the shared one's redirect URIs are fixed in before().
    const registered = await upstream.services.clients.create({
      displayName: 'Gatehouse downstream (hidden)',
      firstParty: true,
      metadata: { redirect_uris: [callback('hidden')], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email' },
    });
    await addProvider('hidden', { hide_on_login: true, client_id: registered.client.clientId, client_secret: registered.secret!, scopes: ['openid', 'profile', 'email'], role_mappings: [] });
    await addProvider('hidden-off', { hide_on_login: true, enabled: false });

    await freshBrowser();
    const plain = await begin();
    await page.goto(plain.url);
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await page.locator('a.upstream[data-provider=hidden]').count(), 'no button for a hidden provider').to.equal(0);

    for (const hint of ['no-such-provider', 'hidden-off']) {
      await freshBrowser();
      const { url } = await begin({ kc_idp_hint: hint });
      const response = await page.goto(url);
      expect(response?.status(), hint).to.equal(200);
      await page.waitForSelector('#login');
      await page.waitForSelector('a.upstream[data-provider=corp]');
      expect(await page.textContent('main'), 'the page says nothing about the alias').to.not.contain(hint);
    }

    await freshBrowser();
    const hinted = await begin({ kc_idp_hint: 'hidden' });
    await page.goto(hinted.url);
    await upstreamSignIn('uma');
    // Back from the hidden provider: uma's identity there is not linked yet.
    await page.waitForSelector('.upstream-pending');
    expect(await page.textContent('.upstream-pending')).to.contain('Corp hidden');
  });

  it('sends a typed email in a home domain to its provider, with the email as login_hint', async () => {
    await addProvider('home', { home_domains: ['home.example'] });
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.fill('#login', 'kim@Home.example');
    await page.fill('#password', 'anything');
    await page.click('form[action$="/login"] button.primary');
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
    expect(await page.inputValue('#login')).to.equal('kim@Home.example');
  });

  it('refuses an unverified email when linking by email, and says why in every language', async () => {
    await addProvider('mail', { link_by_email: true });
    for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
      await freshBrowser();
      const { url } = await begin({ ui_locales: locale });
      await page.goto(url);
      await page.click('a.upstream[data-provider=mail]');
      await upstreamSignIn('una');
      await page.waitForSelector('#upstream-back');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      await expectAccessible(`upstream-error-unverified-${locale}`);
    }
    expect(await page.textContent('main')).to.match(/mail/);
    // Never stranded: back to the sign-in page of the same request.
    await page.click('#upstream-back');
    await page.waitForSelector('a.upstream[data-provider=mail]');
    expect(await auditTypes()).to.include('upstream.refused:email_unverified');
    const victor = await gatehouse.services.accounts.findByLogin('victor');
    expect((await gatehouse.services.upstream.linksOf(victor!.id)).map((link) => link.provider)).to.not.include('mail');
  });

  it('links by a verified email automatically when the provider says so', async () => {
    await freshBrowser();
    const { url, checks } = await begin();
    await page.goto(url);
    await page.click('a.upstream[data-provider=mail]');
    await upstreamSignIn('uma');
    const { claims } = await redeem(checks);
    const owner = await gatehouse.services.accounts.findByLogin('uma@corp.example');
    expect(claims.sub).to.equal(owner!.id);
    expect((await gatehouse.services.upstream.linksOf(owner!.id)).map((link) => link.provider)).to.include('mail');
    await gatehouse.flushBatchedWrites();
    const linked = await gatehouse.audit.query({ limit: 50, types: ['upstream.linked'] });
    expect(linked.events.map((event) => `${String(event.details.provider)}:${String(event.details.by)}`)).to.include('mail:verified_email');
  });

  it('refuses an email outside the allowed domains', async () => {
    await addProvider('domains', { allowed_domains: ['corp.example'] });
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.click('a.upstream[data-provider=domains]');
    await upstreamSignIn('wes');
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('not allowed to sign in here');
    expect(await auditTypes()).to.include('upstream.refused:domain');
  });

  it('brings an upstream cancellation back to a friendly page with a way back', async () => {
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.click('a.upstream[data-provider=corp]');
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
    await page.click('form[action$="/abort"] button');
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('cancelled or refused');
    await page.click('#upstream-back');
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await auditTypes()).to.include('upstream.refused:denied');
  });

  it('refuses a callback with the wrong state, and a replayed callback', async () => {
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    let callbackUrl: string | undefined;
    page.on('request', (request) => {
      if (request.url().startsWith(callback('corp'))) callbackUrl ??= request.url();
    });
    await page.click('a.upstream[data-provider=corp]');
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
    const forged = await page.goto(`${callback('corp')}?code=forged&state=not-the-state`);
    expect(forged?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('expired or was already used');

    // A real round trip, then the same callback URL again.
    const retry = await begin();
    await page.goto(retry.url);
    await page.click('a.upstream[data-provider=corp]');
    await upstreamSignIn('uma');
    await redeem(retry.checks);
    expect(callbackUrl).to.be.a('string');
    const replay = await page.goto(callbackUrl!);
    expect(replay?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('expired or was already used');
    expect(await auditTypes()).to.include('upstream.refused:state');
  });

  it('hides a disabled provider and refuses to start it', async () => {
    await addProvider('off', { enabled: false });
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.waitForSelector('a.upstream[data-provider=corp]');
    expect(await page.locator('a.upstream[data-provider=off]').count()).to.equal(0);
    const start = await page.goto(page.url().replace(/\/?$/, '/upstream/off'));
    expect(start?.status()).to.equal(400);
    expect(await page.textContent('main')).to.contain('not available for this application');
  });

  it('authenticates to the upstream with private_key_jwt (no secret), the key stored sealed', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const registered = await upstream.services.clients.create({
      displayName: 'Gatehouse downstream (key)',
      firstParty: true,
      metadata: {
        redirect_uris: [callback('keyed')],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] },
        scope: 'openid profile email',
      },
    });
    const shown = upstreamOperations(gatehouse.services).show(
      await upstreamOperations(gatehouse.services).create(actor, {
        alias: 'keyed',
        kind: 'oidc',
        issuer: upDeploy.issuer,
        client_id: registered.client.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        private_key_jwk: { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' },
      }),
    );
    expect(shown).to.deep.include({ has_secret: false, has_private_key: true });
    expect(JSON.stringify(shown)).to.not.contain('"d"');
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.click('a.upstream[data-provider=keyed]');
    await upstreamSignIn('vic');
    // The code was redeemed with a signed client assertion: the identity came back (not linked to this provider yet).
    await page.waitForSelector('.upstream-pending');
  });

  it('answers a friendly page, not a 500, when the provider cannot be reached', async () => {
    await addProvider('down', { issuer: 'http://127.0.0.1:9' });
    await freshBrowser();
    const { url } = await begin();
    await page.goto(url);
    await page.waitForSelector('a.upstream[data-provider=down]');
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/upstream/down')), page.click('a.upstream[data-provider=down]')]);
    expect(response.status()).to.equal(502);
    await page.waitForSelector('#upstream-back');
    expect(await page.textContent('main')).to.contain('cannot be reached right now');
    await expectAccessible('upstream-error-unreachable');
  });
});
