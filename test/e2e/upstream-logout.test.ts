import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import { launchChromium, screenshot, seriousViolations } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, webApp, type CodeFlow } from './sign-in.ts';
import { secondGatehouseUpstream, SYSTEM_ACTOR, type UpstreamPair } from './upstream.ts';

/**
 * Upstream logout, end to end: a second Gatehouse (on `localhost`, its own database) is the
 * upstream of the Gatehouse under test (on 127.0.0.1). Signing out of Gatehouse ends the
 * upstream session too when the provider says `upstream_logout`, and leaves it alone when not.
 */
describe('upstream logout in headless Chromium (a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  const app = new RelyingPartyServer();
  let pair: UpstreamPair;
  let portal: oidc.Configuration;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let flow: CodeFlow;

  async function freshBrowser(options: BrowserContextOptions = {}) {
    ({ context, page, flow } = await freshFlowPage(browser, context, portal, app, options));
  }

  /** Signs in to the portal through the upstream provider `alias` (JIT account); the portal's ID token. */
  async function signInThrough(alias: string, username: string): Promise<string> {
    const checks = await flow.start({ scope: 'openid profile email', idp_hint: alias });
    await pair.signInUpstream(page, username);
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    return (await flow.grant(checks)).id_token!;
  }

  /** RP-initiated logout at the portal; resolves once the browser is back at the app's landing page. */
  async function signOut(idToken: string, upstreamConfirms: boolean): Promise<URL> {
    const url = oidc.buildEndSessionUrl(portal, { id_token_hint: idToken, post_logout_redirect_uri: `${app.origin}/bye`, state: 'see-you' });
    await page.goto(url.href);
    if (upstreamConfirms) {
      // The upstream asks unless the hint names its current session: either way it must end there.
      await page.waitForURL((current) => current.origin === pair.upDeploy.issuer || current.pathname === '/bye');
      if (new URL(page.url()).origin === pair.upDeploy.issuer && (await page.locator('button[name=logout]').count()) > 0) {
        await page.click('button[name=logout]');
      }
    }
    await page.waitForURL((current) => current.toString().startsWith(`${app.origin}/bye`));
    return new URL(page.url());
  }

  /** What the upstream answers a `prompt=none` authorization from this browser: an error, or a code. */
  async function upstreamSilently(alias: string): Promise<URLSearchParams> {
    const url = new URL(`${pair.upDeploy.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: pair.client.clientId, response_type: 'code', scope: 'openid', redirect_uri: pair.callback(alias), prompt: 'none', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    await page.goto(url.href);
    await page.waitForURL((current) => current.toString().startsWith(pair.callback(alias)));
    return new URL(page.url()).searchParams;
  }

  async function logoutOutcomes(): Promise<string[]> {
    await pair.gatehouse.flushBatchedWrites();
    const events = await pair.gatehouse.audit.query({ limit: 50, types: ['upstream.logout'] });
    return events.events.map((event) => `${String(event.details.provider)}:${String(event.details.outcome)}`);
  }

  before(async () => {
    await app.start();
    pair = await secondGatehouseUpstream('e2e_uplogout', {
      aliases: ['corp', 'keep', 'gone'],
      logout: true,
      users: ['olga', 'rosa', 'quinn', 'pavel', 'sami'].map((username) => ({ username, email: `${username}@corp.example`, emailVerified: true, name: username[0]!.toUpperCase() + username.slice(1) })),
    });
    portal = await webApp(pair.gatehouse, pair.downDeploy.issuer, app, { displayName: 'Portal', scope: 'openid profile email', postLogoutRedirectUris: [`${app.origin}/bye`] });
    await pair.addProvider('corp', { upstream_logout: true });
    await pair.addProvider('keep', { upstream_logout: false });
    browser = await launchChromium();
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await pair?.close();
    await app.close();
  });

  it('shows the post-logout redirect URI to register upstream', async () => {
    const shown = upstreamOperations(pair.gatehouse.services).show((await pair.gatehouse.services.upstream.get('corp'))!);
    expect(shown.post_logout_redirect_uri).to.equal(pair.loggedOut('corp'));
  });

  it('with upstream_logout, signing out of Gatehouse ends the upstream session too, then returns to the app with its state', async () => {
    await freshBrowser();
    const idToken = await signInThrough('corp', 'olga');
    expect((await upstreamSilently('corp')).get('code'), 'signed in upstream before the sign-out').to.be.a('string');

    const landing = await signOut(idToken, true);
    expect(landing.searchParams.get('state')).to.equal('see-you');

    expect((await upstreamSilently('corp')).get('error'), 'the upstream session is gone').to.equal('login_required');
    await flow.start({ prompt: 'none' });
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
    // A user of its own: pavel's address already belongs to the account 'keep' made for him (the
    // verified-owner rule would create this one without it and say so on a page first).
    await signInThrough('corp', 'sami');
    await page.goto(`${pair.downDeploy.issuer}/account/`);
    // Signed in at Gatehouse already: the account page signs in with no click (its silent sign-in).
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Signed out: the silent sign-in finds no session, the sign-in page shows.
    await page.getByRole('heading', { name: 'Manage your account' }).waitFor();
    expect(page.url()).to.equal(`${pair.downDeploy.issuer}/account/`);
    expect((await upstreamSilently('corp')).get('error'), 'the upstream session is gone').to.equal('login_required');
  });

  it('completes the Gatehouse sign-out when the upstream is unreachable', async () => {
    await freshBrowser();
    const idToken = await signInThrough('corp', 'quinn');
    // The provider now points at an issuer nobody answers for (its discovery fails).
    await upstreamOperations(pair.gatehouse.services).update(SYSTEM_ACTOR, 'corp', { issuer: 'http://127.0.0.1:9/unreachable' });
    try {
      const landing = await signOut(idToken, false);
      expect(landing.searchParams.get('state')).to.equal('see-you');
      expect(await logoutOutcomes()).to.include('corp:unreachable');
    } finally {
      await upstreamOperations(pair.gatehouse.services).update(SYSTEM_ACTOR, 'corp', { issuer: pair.upDeploy.issuer });
    }
  });

  it('says where it is going while it leaves for the upstream (accessible, localized)', async () => {
    await freshBrowser({ viewport: { width: 900, height: 700 }, locale: 'ko-KR' });
    const idToken = await signInThrough('corp', 'rosa');
    // Keep the browser on the page that leads to the upstream's end-session endpoint: its Refresh header taken out.
    await page.route(`${pair.downDeploy.issuer}/session/end/confirm`, async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const headers = { ...response.headers() };
      delete headers.refresh;
      await route.fulfill({ response, headers });
    });
    const url = oidc.buildEndSessionUrl(portal, { id_token_hint: idToken, post_logout_redirect_uri: `${app.origin}/bye` });
    await page.goto(url.href);
    await page.waitForSelector('#upstream-continue');
    expect(await page.textContent('h1')).to.contain('Corp corp');
    expect(await page.getAttribute('#upstream-continue', 'href')).to.match(new RegExp(`^${pair.upDeploy.issuer}/session/end\\?`));
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'upstream-logout-leaving-ko');
  });

  it('a return without its cookie lands on the signed-out page', async () => {
    await freshBrowser();
    await page.goto(`${pair.loggedOut('corp')}?state=forged`);
    await page.waitForURL((current) => current.pathname.endsWith('/session/end/success'));
    expect(await page.textContent('h1')).to.contain('signed out');
    await screenshot(page, 'upstream-logout-return-without-cookie');
  });
});
