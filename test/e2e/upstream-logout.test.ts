import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';

/**
 * Upstream logout, end to end: a second Gatehouse (on `localhost`, its own database) is the
 * upstream of the Gatehouse under test (on 127.0.0.1). Signing out of Gatehouse ends the
 * upstream session too when the provider says `upstream_logout`, and leaves it alone when not.
 */
describe('upstream logout in headless Chromium (a second Gatehouse upstream)', function () {
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
  const loggedOut = (alias: string) => `${downDeploy.issuer}/upstream/${alias}/logged-out`;

  async function addProvider(alias: string, extra: Record<string, unknown>) {
    return upstreamOperations(gatehouse.services).create(actor, {
      alias,
      kind: 'oidc',
      display_name: `Corp ${alias}`,
      issuer: upDeploy.issuer,
      client_id: upstreamClient.clientId,
      client_secret: upstreamClient.secret,
      scopes: ['openid', 'profile', 'email'],
      ...extra,
    });
  }

  async function freshBrowser() {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 900, height: 900 } });
    page = await context.newPage();
  }

  /** Signs in to the portal through the upstream provider `alias` (JIT account); the portal's ID token. */
  async function signInThrough(alias: string, username: string): Promise<string> {
    const checks = { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: oidc.randomState() };
    const url = oidc.buildAuthorizationUrl(portal, {
      redirect_uri: `${app.origin}/cb`,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      idp_hint: alias,
    });
    await page.goto(url.href);
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
    await page.fill('#login', username);
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    await page.waitForURL((current) => current.toString().startsWith(`${app.origin}/cb`));
    const tokens = await oidc.authorizationCodeGrant(portal, new URL(page.url()), checks);
    return tokens.id_token!;
  }

  /** RP-initiated logout at the portal; resolves once the browser is back at the app's landing page. */
  async function signOut(idToken: string, upstreamConfirms: boolean): Promise<URL> {
    const url = oidc.buildEndSessionUrl(portal, { id_token_hint: idToken, post_logout_redirect_uri: `${app.origin}/bye`, state: 'see-you' });
    await page.goto(url.href);
    if (upstreamConfirms) {
      // The upstream asks unless the hint names its current session: either way it must end there.
      await page.waitForURL((current) => current.origin === upDeploy.issuer || current.pathname === '/bye');
      if (new URL(page.url()).origin === upDeploy.issuer && (await page.locator('button[name=logout]').count()) > 0) {
        await page.click('button[name=logout]');
      }
    }
    await page.waitForURL((current) => current.toString().startsWith(`${app.origin}/bye`));
    return new URL(page.url());
  }

  /** What the upstream answers a `prompt=none` authorization from this browser: an error, or a code. */
  async function upstreamSilently(alias: string): Promise<URLSearchParams> {
    const url = new URL(`${upDeploy.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: upstreamClient.clientId, response_type: 'code', scope: 'openid', redirect_uri: callback(alias), prompt: 'none', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    await page.goto(url.href);
    await page.waitForURL((current) => current.toString().startsWith(callback(alias)));
    return new URL(page.url()).searchParams;
  }

  async function logoutOutcomes(): Promise<string[]> {
    await gatehouse.flushBatchedWrites();
    const events = await gatehouse.audit.query({ limit: 50, types: ['upstream.logout'] });
    return events.events.map((event) => `${String(event.details.provider)}:${String(event.details.outcome)}`);
  }

  before(async () => {
    await app.start();
    upDeploy = await deployment('e2e_uplogout_idp', { host: 'localhost' });
    downDeploy = await deployment('e2e_uplogout_rp');
    upstream = await upDeploy.start();
    gatehouse = await downDeploy.start();

    await upstream.services.accounts.createUser({ username: 'olga', password: PASSWORD, email: 'olga@corp.example', emailVerified: true, name: 'Olga' });
    await upstream.services.accounts.createUser({ username: 'quinn', password: PASSWORD, email: 'quinn@corp.example', emailVerified: true, name: 'Quinn' });
    await upstream.services.accounts.createUser({ username: 'pavel', password: PASSWORD, email: 'pavel@corp.example', emailVerified: true, name: 'Pavel' });
    const created = await upstream.services.clients.create({
      displayName: 'Gatehouse downstream',
      firstParty: true,
      metadata: {
        redirect_uris: ['corp', 'keep', 'gone'].map(callback),
        post_logout_redirect_uris: ['corp', 'keep', 'gone'].map(loggedOut),
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email',
      },
    });
    upstreamClient = { clientId: created.client.clientId, secret: created.secret! };

    const portalClient = await gatehouse.services.clients.create({
      displayName: 'Portal',
      firstParty: true,
      metadata: {
        redirect_uris: [`${app.origin}/cb`],
        post_logout_redirect_uris: [`${app.origin}/bye`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email',
      },
    });
    portal = await oidc.discovery(new URL(downDeploy.issuer), portalClient.client.clientId, { client_secret: portalClient.secret! }, undefined, { execute: [oidc.allowInsecureRequests] });
    await addProvider('corp', { upstream_logout: true });
    await addProvider('keep', { upstream_logout: false });
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

  it('shows the post-logout redirect URI to register upstream', async () => {
    const shown = upstreamOperations(gatehouse.services).show((await gatehouse.services.upstream.get('corp'))!);
    expect(shown.post_logout_redirect_uri).to.equal(loggedOut('corp'));
  });

  it('with upstream_logout, signing out of Gatehouse ends the upstream session too, then returns to the app with its state', async () => {
    await freshBrowser();
    const idToken = await signInThrough('corp', 'olga');
    expect((await upstreamSilently('corp')).get('code'), 'signed in upstream before the sign-out').to.be.a('string');

    const landing = await signOut(idToken, true);
    expect(landing.searchParams.get('state')).to.equal('see-you');

    expect((await upstreamSilently('corp')).get('error'), 'the upstream session is gone').to.equal('login_required');
    const again = oidc.buildAuthorizationUrl(portal, { redirect_uri: `${app.origin}/cb`, scope: 'openid', prompt: 'none', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    await page.goto(again.href);
    await page.waitForURL((current) => current.toString().startsWith(`${app.origin}/cb`));
    expect(new URL(page.url()).searchParams.get('error'), 'the Gatehouse session is gone').to.equal('login_required');
    expect(await logoutOutcomes()).to.include('corp:continued');
  });

  it('without upstream_logout, the upstream session stays', async () => {
    await freshBrowser();
    const idToken = await signInThrough('keep', 'pavel');
    const landing = await signOut(idToken, false);
    expect(landing.searchParams.get('state')).to.equal('see-you');
    expect((await upstreamSilently('keep')).get('code'), 'still signed in upstream').to.be.a('string');
  });

  it('the account page sign-out continues to the upstream as well', async () => {
    await freshBrowser();
    await signInThrough('corp', 'pavel');
    await page.goto(`${downDeploy.issuer}/account/`);
    // Signed in at Gatehouse already: the account page's sign-in comes straight back.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Manage your account' }).waitFor();
    expect(page.url()).to.equal(`${downDeploy.issuer}/account/`);
    expect((await upstreamSilently('corp')).get('error'), 'the upstream session is gone').to.equal('login_required');
  });

  it('completes the Gatehouse sign-out when the upstream is unreachable', async () => {
    await freshBrowser();
    const idToken = await signInThrough('corp', 'quinn');
    // The provider now points at an issuer nobody answers for (its discovery fails).
    await upstreamOperations(gatehouse.services).update(actor, 'corp', { issuer: 'http://127.0.0.1:9/unreachable' });
    try {
      const landing = await signOut(idToken, false);
      expect(landing.searchParams.get('state')).to.equal('see-you');
      expect(await logoutOutcomes()).to.include('corp:unreachable');
    } finally {
      await upstreamOperations(gatehouse.services).update(actor, 'corp', { issuer: upDeploy.issuer });
    }
  });

  it('a return without its cookie lands on the signed-out page', async () => {
    await freshBrowser();
    await page.goto(`${loggedOut('corp')}?state=forged`);
    await page.waitForURL((current) => current.pathname.endsWith('/session/end/success'));
    expect(await page.textContent('h1')).to.contain('signed out');
    await screenshot(page, 'upstream-logout-return-without-cookie');
  });
});
