import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, reportFailedPage, screenshot } from './browser.ts';
import { RelyingPartyServer } from './relying-party.ts';
import { application, operator, startCodeFlow, type Operator } from './outside.ts';

const ORDERS = 'https://orders.outside.test';
const PASSWORD = 'an attribute carrying passphrase 3';
/** The operator's description of the scope, per language, as the consent page must show it. */
const DESCRIPTION = { en: 'See your department', ru: 'Видеть ваш отдел', 'zh-CN': '查看您的部门', ko: '부서 정보 보기' } as const;

/**
 * From outside: a custom attribute on a user and a claim scope mapping it, both made with the admin
 * API; a third-party app (openid-client) that may ask for the scope gets the claims in the ID token,
 * userinfo, its JWT access token for an API and at introspection, after the user allowed it on the
 * consent page (screenshotted in four languages); an app not allowed the scope gets none of them.
 */
describe('outside: custom attributes and a claim scope, from the admin API to every token', function () {
  this.timeout(120_000);
  const rp = new RelyingPartyServer();
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let ops: Operator;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let userId: string;

  before(async () => {
    deploy = await deployment('outside_claims');
    gatehouse = await deploy.start();
    ops = await operator(deploy);
    browser = await launchChromium();
    await rp.start();
    const scope = await ops.call('POST', '/claim-scopes', {
      name: 'department',
      description: DESCRIPTION,
      mappers: [
        { type: 'user_attribute', attribute: 'department', claim: 'department' },
        { type: 'user_attribute', attribute: 'langs', claim: 'languages', multivalued: true, id_token: false },
        { type: 'hardcoded', claim: 'tenant', value: 'acme', access_token: false },
      ],
    });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    const api = await ops.call('POST', '/apis', { identifier: ORDERS, name: 'Orders', scopes: ['read'] });
    expect(api.status, JSON.stringify(api.body)).to.equal(201);
    const user = await ops.call('POST', '/users', { username: 'dora', password: PASSWORD, attributes: { department: 'eng', langs: ['en', 'fr'] } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    userId = user.body.id;
    expect((await ops.call('GET', `/users/${userId}`)).body.attributes).to.deep.equal({ department: 'eng', langs: ['en', 'fr'] });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, 'outside-claim-scopes-failed');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rp.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('discovery lists the scope and its claims', async () => {
    const discovery = (await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[]; claims_supported: string[] };
    expect(discovery.scopes_supported).to.include('department');
    expect(discovery.claims_supported).to.include.members(['department', 'languages', 'tenant']);
  });

  it('a third-party app allowed the scope: consent lists it in four languages, then ID token, userinfo, JWT access token and introspection carry the claims', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Partner Portal', redirect_uris: [`${rp.origin}/cb`], scope: 'openid profile department', apis: [ORDERS] });
    const app = await application(deploy.issuer, created);
    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();

    await startCodeFlow(page, app, `${rp.origin}/cb`, { scope: 'openid department', ui_locales: 'en' });
    await page.fill('#username', 'dora');
    await page.fill('#password', PASSWORD);
    await page.click('button.primary');
    await page.getByRole('heading', { level: 1, name: 'Allow access?' }).waitFor();
    // The same request in each language (signed in now: straight to the consent page); English last, the one allowed.
    let flow: Awaited<ReturnType<typeof startCodeFlow>> | undefined;
    for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
      flow = await startCodeFlow(page, app, `${rp.origin}/cb`, { scope: 'openid department', ui_locales: locale });
      await page.waitForSelector('ul.scopes');
      expect(await page.getAttribute('html', 'lang')).to.equal(locale);
      expect(await page.locator('ul.scopes li').allTextContents()).to.include(DESCRIPTION[locale]);
      expect(await page.textContent('.lead')).to.contain('Partner Portal');
      await screenshot(page, `outside-consent-claim-scope-${locale}`);
    }
    await page.click('button.primary');
    const tokens = await flow!.finish();
    expect(tokens.claims()).to.include({ sub: userId, department: 'eng', tenant: 'acme' });
    expect(tokens.claims()).not.to.have.property('languages');
    const userinfo = await oidc.fetchUserInfo(app, tokens.access_token, userId);
    expect(userinfo).to.include({ department: 'eng', tenant: 'acme' });
    expect(userinfo.languages).to.deep.equal(['en', 'fr']);
    const opaque = await oidc.tokenIntrospection(app, tokens.access_token);
    expect(opaque).to.include({ active: true, department: 'eng' });
    expect(opaque.languages).to.deep.equal(['en', 'fr']);
    expect(opaque).not.to.have.property('tenant');

    // Signed in already: the consent page asks only for the API's permission; its JWT access token carries the claims too.
    const forApi = await startCodeFlow(page, app, `${rp.origin}/cb`, { scope: 'openid department read', resource: ORDERS });
    await page.waitForSelector('ul.scopes');
    expect(await page.locator('ul.scopes li').allTextContents()).not.to.include(DESCRIPTION.en);
    await page.click('button.primary');
    const apiTokens = await forApi.finish();
    const jwt = decodeJwt(apiTokens.access_token);
    expect(jwt).to.include({ aud: ORDERS, sub: userId, department: 'eng' });
    expect(jwt.languages).to.deep.equal(['en', 'fr']);
    expect(jwt).not.to.have.property('tenant');
    const introspected = await oidc.tokenIntrospection(app, apiTokens.access_token);
    expect(introspected).to.include({ active: true, department: 'eng' });
  });

  it('an app not allowed the scope gets none of its claims, not even by naming them in the claims parameter', async () => {
    const created = await ops.call('POST', '/clients', { name: 'Other App', redirect_uris: [`${rp.origin}/other-cb`], scope: 'openid profile', first_party: true });
    const app = await application(deploy.issuer, created);
    await context?.close();
    context = await browser.newContext({ locale: 'en' });
    page = await context.newPage();
    // Asking for the scope is an error (the client's `scope` does not list it)…
    const refused = await startCodeFlow(page, app, `${rp.origin}/other-cb`, { scope: 'openid profile department' });
    void refused;
    await page.waitForURL((at) => at.pathname === '/other-cb');
    expect(new URL(page.url()).searchParams.get('error')).to.equal('invalid_scope');
    // …and naming its claims in the claims parameter gets none of them.
    const flow = await startCodeFlow(page, app, `${rp.origin}/other-cb`, {
      scope: 'openid profile',
      claims: JSON.stringify({ id_token: { department: null, tenant: null }, userinfo: { department: null, languages: null } }),
    });
    await page.fill('#username', 'dora');
    await page.fill('#password', PASSWORD);
    await page.click('button.primary');
    const tokens = await flow.finish();
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(userId);
    expect(claims.preferred_username).to.equal('dora');
    for (const name of ['department', 'languages', 'tenant']) expect(claims, name).not.to.have.property(name);
    const userinfo = await oidc.fetchUserInfo(app, tokens.access_token, userId);
    expect(userinfo.preferred_username).to.equal('dora');
    for (const name of ['department', 'languages', 'tenant']) expect(userinfo, name).not.to.have.property(name);
    const introspected = await oidc.tokenIntrospection(app, tokens.access_token);
    expect(introspected.active).to.equal(true);
    expect(String(introspected.scope).split(' ')).not.to.include('department');
    for (const name of ['department', 'languages', 'tenant']) expect(introspected, name).not.to.have.property(name);
  });
});
