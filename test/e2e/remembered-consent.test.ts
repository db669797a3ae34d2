import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, deployment, PASSWORD, relyingParty, throwawayAuthorizationUrl, type Deployment } from '../helpers/e2e.ts';
import { freePort } from '../helpers/redis-server.ts';
import { launchChromium, POLLING, reportFailedPage, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { freshFlowPage, submitPassword, type CodeFlow } from './sign-in.ts';

/** A user agent that notes the hosts it asked. */
class HostsSeen extends UserAgent {
  readonly hosts = new Set<string>();
  override request(url: string, init?: RequestInit): Promise<Response> {
    this.hosts.add(new URL(url).host);
    return super.request(url, init);
  }
}

/**
 * Consent remembered across sign-in sessions (Keycloak's user consents): a third-party app asks
 * once; another browser, or the same one after signing out, is not asked again for what the user
 * allowed. New scopes, `prompt=consent` and native apps still show the page; removing the app's
 * access on the account page or an operator's revocation makes it ask again. Headless Chromium
 * is the user, openid-client the app.
 */
describe('consent remembered across sign-in sessions (headless Chromium + openid-client)', function () {
  this.timeout(180_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let app: oidc.Configuration;
  let clientId: string;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page;
  let flow: CodeFlow;
  let token: string;
  let failed = 0;
  const admin = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('remembered_consent');
    gatehouse = await deploy.start();
    await rp.start();
    if ((await gatehouse.services.apis.find(API)) === undefined) await gatehouse.services.apis.create({ identifier: API, name: 'Example API', scopes: ['read', 'write'] });
    const { client, secret } = await gatehouse.services.clients.create({
      displayName: 'Planner',
      allowedApis: [API],
      metadata: {
        redirect_uris: [`${rp.origin}/cb`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email offline_access',
        post_logout_redirect_uris: [`${rp.origin}/bye`],
      },
    });
    clientId = client.clientId;
    app = await relyingParty(deploy.issuer, clientId, secret!);
    token = await (await adminClient(gatehouse)).token();
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, `remembered-consent-failed-${(failed += 1)}`);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function newUser(): Promise<{ id: string; username: string }> {
    const user = await gatehouse.services.accounts.createUser({ username: `consent${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD, email: `c${Math.random().toString(36).slice(2, 8)}@example.com`, emailVerified: true, name: 'Carol Consent' });
    return { id: user.id, username: user.username };
  }

  /** A new browser context: no session cookie, as another browser or a browser that dropped it. */
  async function freshBrowser(): Promise<void> {
    ({ context, page, flow } = await freshFlowPage(browser, context, app, rp));
  }

  interface Outcome {
    /** The consent page's list, when it was shown (then allowed). */
    readonly asked: string[] | undefined;
    readonly tokens: Awaited<ReturnType<CodeFlow['grant']>>;
  }

  /**
   * One authorization in the current browser context: signs in when the page asks, reads and
   * allows the consent page when it is shown, and redeems the code with openid-client.
   */
  async function authorize(user: { username: string }, parameters: Record<string, string> = {}, shot?: string): Promise<Outcome> {
    const checks = await flow.start({ scope: 'openid profile', ...parameters });
    const back = (url: URL) => url.toString().startsWith(`${rp.origin}/cb`);
    const next = async () => {
      await page.waitForFunction((origin) => location.href.startsWith(`${origin}/cb`) || document.querySelector('#username, form[action$="/confirm"]') !== null, rp.origin, POLLING);
      return back(new URL(page.url())) ? 'app' : (await page.locator('#username').count()) > 0 ? 'login' : 'consent';
    };
    let at = await next();
    if (at === 'login') {
      await submitPassword(page, user.username);
      await page.waitForURL((url) => back(url) || !url.pathname.endsWith('/login'));
      at = await next();
    }
    let asked: string[] | undefined;
    if (at === 'consent') {
      asked = await page.locator('ul.scopes li').allTextContents();
      if (shot !== undefined) await screenshot(page, shot);
      await page.click('form[action$="/confirm"] button');
    }
    return { asked, tokens: await flow.grant(checks) };
  }

  async function signOut(idToken: string): Promise<void> {
    const url = oidc.buildEndSessionUrl(app, { id_token_hint: idToken, post_logout_redirect_uri: `${rp.origin}/bye` });
    await page.goto(url.href);
    await page.waitForURL((current) => current.toString().startsWith(`${rp.origin}/bye`));
  }

  it('asks once: after signing out, and in another browser, the app gets the same scopes without the consent page', async () => {
    const user = await newUser();
    await freshBrowser();
    const first = await authorize(user, { scope: 'openid profile email' }, 'remembered-consent-first');
    expect(first.asked, 'the first sign-in asks').to.have.length.greaterThan(0);
    expect(first.tokens.scope).to.equal('openid profile email');

    await signOut(first.tokens.id_token!);
    const afterSignOut = await authorize(user, { scope: 'openid profile email' });
    expect(afterSignOut.asked, 'signed out and in again: not asked').to.equal(undefined);
    expect(afterSignOut.tokens.scope).to.equal('openid profile email');
    expect(afterSignOut.tokens.claims()).to.include({ sub: user.id, name: 'Carol Consent', email_verified: true });

    await freshBrowser();
    const elsewhere = await authorize(user, { scope: 'openid email' });
    expect(elsewhere.asked, 'another browser, part of what was allowed: not asked').to.equal(undefined);
    expect(elsewhere.tokens.scope, 'only what the request asks for').to.equal('openid email');
    const userinfo = await oidc.fetchUserInfo(app, elsewhere.tokens.access_token, user.id);
    expect(userinfo).to.have.property('email');
    expect(userinfo, 'profile was not asked for this time').to.not.have.property('name');

    // The operator sees the record.
    const listed = await admin('GET', `/users/${user.id}/consents`);
    expect(listed.status).to.equal(200);
    expect(listed.body).to.have.length(1);
    expect(listed.body[0]).to.include({ client_id: clientId });
    expect(listed.body[0].scopes).to.have.members(['openid', 'profile', 'email']);
  });

  it('a new scope shows the page for the new scope only; the record then covers it too', async () => {
    const user = await newUser();
    await freshBrowser();
    await authorize(user, { scope: 'openid profile' });
    await freshBrowser();
    const wider = await authorize(user, { scope: `openid profile email read`, resource: API }, 'remembered-consent-new-scope');
    expect(wider.asked, 'asked again').to.not.equal(undefined);
    expect(wider.asked!.join(' | ')).to.include('email').and.include('read').and.not.include('name and basic profile');
    expect(wider.asked, 'email and read at Example API').to.have.length(2);
    expect(wider.asked!.join(' | '), 'the API by its display name, not its address').to.include('at Example API').and.not.include(API);
    const accessClaims = JSON.parse(Buffer.from(wider.tokens.access_token.split('.')[1]!, 'base64url').toString()) as { aud: string; scope: string };
    expect(accessClaims.aud).to.equal(API);
    expect(accessClaims.scope.split(' ')).to.include('read');

    await freshBrowser();
    const again = await authorize(user, { scope: 'openid profile email read', resource: API });
    expect(again.asked, 'everything was allowed by now').to.equal(undefined);
    expect((JSON.parse(Buffer.from(again.tokens.access_token.split('.')[1]!, 'base64url').toString()) as { scope: string }).scope.split(' ')).to.include('read');
  });

  it('names the API by its display name in all four languages (its address only when it has none)', async () => {
    const said = { en: 'Use the permission “read” at Example API', ru: 'Использовать разрешение «read» в Example API', 'zh-CN': '在 Example API 使用权限“read”', ko: 'Example API에서 “read” 권한 사용' };
    // A new user each time: the page lists only what was not allowed yet.
    for (const [locale, line] of Object.entries(said)) {
      await freshBrowser();
      const { asked } = await authorize(await newUser(), { scope: 'openid read', resource: API, ui_locales: locale }, `consent-api-name-${locale}`);
      expect(asked, locale).to.include(line);
      expect(asked!.join(' | '), locale).to.not.include(API);
    }
    const unnamed = 'https://unnamed.example.com';
    await gatehouse.services.apis.create({ identifier: unnamed, scopes: ['sync'] });
    await gatehouse.services.clients.update(clientId, { allowedApis: [API, unnamed] });
    try {
      await freshBrowser();
      const { asked } = await authorize(await newUser(), { scope: 'openid sync', resource: unnamed });
      expect(asked).to.include(`Use the permission “sync” at ${unnamed}`);
    } finally {
      await gatehouse.services.clients.update(clientId, { allowedApis: [API] });
    }
  });

  it('prompt=consent always shows the page; prompt=none answers consent_required until there is a record, then a code', async () => {
    const user = await newUser();
    await freshBrowser();
    // A session, but no consent yet: the silent request must not grant anything.
    const signedInElsewhere = await gatehouse.services.clients.create({
      displayName: 'Portal',
      firstParty: true,
      metadata: { redirect_uris: [`${rp.origin}/portal`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid' },
    });
    await page.goto(throwawayAuthorizationUrl(deploy.issuer, signedInElsewhere.client.clientId, `${rp.origin}/portal`));
    await submitPassword(page, user.username);
    await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/portal`));
    const silent = async () => {
      await page.goto(throwawayAuthorizationUrl(deploy.issuer, clientId, `${rp.origin}/cb`, { scope: 'openid profile', prompt: 'none', state: 'quiet' }));
      await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/cb`));
      return new URL(page.url()).searchParams;
    };
    expect((await silent()).get('error')).to.equal('consent_required');

    await freshBrowser();
    expect((await authorize(user, { scope: 'openid profile' })).asked).to.not.equal(undefined);
    await freshBrowser();
    const forced = await authorize(user, { scope: 'openid profile', prompt: 'consent' });
    expect(forced.asked, 'prompt=consent asks whatever the record says').to.not.equal(undefined);
    // In a new session: the record answers the silent request.
    await freshBrowser();
    await page.goto(throwawayAuthorizationUrl(deploy.issuer, signedInElsewhere.client.clientId, `${rp.origin}/portal`));
    await submitPassword(page, user.username);
    await page.waitForURL((url) => url.toString().startsWith(`${rp.origin}/portal`));
    const answer = await silent();
    expect(answer.get('error')).to.equal(null);
    expect(answer.get('code')).to.be.a('string');
  });

  it('offline_access is granted only with prompt=consent, as before (OpenID Connect Core §11)', async () => {
    const user = await newUser();
    await freshBrowser();
    const asked = await authorize(user, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(asked.asked).to.not.equal(undefined);
    expect(asked.tokens.scope).to.equal('openid profile offline_access');
    // Remembered, but without prompt=consent the library drops the scope: no page, no offline access.
    await freshBrowser();
    const remembered = await authorize(user, { scope: 'openid profile offline_access' });
    expect(remembered.asked).to.equal(undefined);
    expect(remembered.tokens.scope).to.equal('openid profile');
  });

  it('a native app shows the page on every sign-in, its consent recorded all the same', async () => {
    const user = await newUser();
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Phone app',
      metadata: { application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid profile' },
    });
    const redirect = 'http://127.0.0.1:51234/callback';
    for (const time of ['first', 'second']) {
      const outcome = await signIn(new UserAgent(), throwawayAuthorizationUrl(deploy.issuer, client.clientId, redirect, { scope: 'openid profile' }), redirect, { username: user.username, password: PASSWORD });
      expect(outcome.sawConsent, time).to.equal(true);
    }
    const listed = await admin('GET', `/users/${user.id}/consents`);
    expect(listed.body.map((consent: { client_id: string }) => consent.client_id)).to.deep.equal([client.clientId]);
  });

  it('an operator revokes the consent (admin API): the app asks again and its tokens stop working', async () => {
    const user = await newUser();
    await freshBrowser();
    const first = await authorize(user);
    expect(first.asked).to.not.equal(undefined);
    await freshBrowser();
    const remembered = await authorize(user);
    expect(remembered.asked).to.equal(undefined);

    const revoked = await admin('DELETE', `/users/${user.id}/consents/${encodeURIComponent(clientId)}`);
    expect(revoked.status, JSON.stringify(revoked.body)).to.equal(200);
    expect(revoked.body.consent).to.equal(true);
    expect(revoked.body.grants, 'the grants of both sessions').to.equal(2);
    expect((await oidc.tokenIntrospection(app, remembered.tokens.refresh_token!)).active).to.equal(false);
    const events = await admin('GET', `/audit-events?type=consent.revoked&limit=5`);
    expect(events.body.events.map((event: { target: { id: string }; details: { user: string } }) => [event.target.id, event.details.user])).to.deep.include([clientId, user.id]);

    await freshBrowser();
    expect((await authorize(user)).asked, 'asked again').to.not.equal(undefined);
    const gone = await admin('DELETE', `/users/${user.id}/consents/no-such-client`);
    expect(gone.status).to.equal(404);
    expect(gone.body.code).to.equal('consent_not_found');
  });

  it('another instance on the same database sees the record at once', async () => {
    const user = await newUser();
    await freshBrowser();
    expect((await authorize(user)).asked).to.not.equal(undefined);
    const second = await deploy.start(await freePort());
    try {
      const redirect = `${rp.origin}/cb`;
      const agent = new HostsSeen();
      const outcome = await signIn(agent, throwawayAuthorizationUrl(second.url, clientId, redirect, { scope: 'openid profile' }), redirect, { username: user.username, password: PASSWORD });
      expect(outcome.sawLogin).to.equal(true);
      expect([...agent.hosts], 'every request went to the second instance').to.deep.equal([new URL(second.url).host]);
      expect(outcome.sawConsent, 'remembered at the other instance').to.equal(false);
    } finally {
      await second.close();
    }
  });

  it('deleting the client removes its consents: a client made again under the same id asks', async () => {
    const user = await newUser();
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Short-lived',
      metadata: { redirect_uris: [`${rp.origin}/short`], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid profile' },
    });
    const redirect = `${rp.origin}/short`;
    const url = () => throwawayAuthorizationUrl(deploy.issuer, client.clientId, redirect, { scope: 'openid profile' });
    expect((await signIn(new UserAgent(), url(), redirect, { username: user.username, password: PASSWORD })).sawConsent).to.equal(true);
    expect((await signIn(new UserAgent(), url(), redirect, { username: user.username, password: PASSWORD })).sawConsent).to.equal(false);
    expect((await admin('DELETE', `/clients/${encodeURIComponent(client.clientId)}`)).status).to.equal(204);
    expect(await gatehouse.services.consents.find(user.id, client.clientId)).to.equal(undefined);
  });
});
