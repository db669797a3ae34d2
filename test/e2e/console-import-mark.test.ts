import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { chooseConsoleLocale, consoleOperator, launchChromium, screenshot, seriousViolations } from './browser.ts';

const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/** A string of the console's locale file with its values filled in, as the console shows it. */
function consoleString(locale: string, key: string, values: Record<string, string | number> = {}): string {
  const strings = JSON.parse(readFileSync(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

const REALM = 'acme-production';
const document = {
  realm: REALM,
  enabled: true,
  clients: [{ clientId: 'kc-web', name: 'KC web', enabled: true, publicClient: false, clientAuthenticatorType: 'client-secret', secret: 'kc-secret', standardFlowEnabled: true, redirectUris: ['https://web.example.com/cb'], webOrigins: [] }],
  clientScopes: [
    {
      name: 'department',
      protocol: 'openid-connect',
      attributes: {},
      protocolMappers: [{ name: 'dept', protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'dept', 'claim.value': 'sales', 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
    },
  ],
  identityProviders: [
    { alias: 'corp', displayName: 'Corp SSO', providerId: 'oidc', enabled: true, trustEmail: false, config: { clientId: 'gatehouse', clientSecret: 'idp-secret', issuer: 'https://corp.example.com', authorizationUrl: 'https://corp.example.com/auth', tokenUrl: 'https://corp.example.com/token', clientAuthMethod: 'client_secret_post' } },
  ],
};

/** The console's client, claim scope and upstream provider pages say which Keycloak realm an import created them from (the admin API's imported_from); nothing for one made here. */
describe('admin console: clients, claim scopes and upstream providers imported from Keycloak (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    deploy = await deployment('console_import_mark');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    const token = await (await adminClient(gatehouse)).token();
    const imported = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', document);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    const local = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'local-web', name: 'Local web', redirect_uris: ['https://local.example.com/cb'] });
    expect(local.status, JSON.stringify(local.body)).to.equal(201);
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-import-mark');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('shows "Imported from: Keycloak realm <realm>" on each page in four languages; a client made here shows none', async () => {
    const page = await operatorPage(deploy.issuer);
    const pages = [
      { name: 'client', hash: '#/clients/kc-web', heading: (locale: string) => consoleString(locale, 'client.heading', { client: 'KC web' }) },
      { name: 'claim-scope', hash: '#/claim-scopes/department', heading: (locale: string) => consoleString(locale, 'claimScope.heading', { name: 'department' }) },
      { name: 'upstream', hash: '#/upstream/corp', heading: (locale: string) => consoleString(locale, 'upstream.item.heading', { name: 'Corp SSO' }) },
    ];
    for (const shown of pages) {
      await page.goto(`${deploy.issuer}/console/${shown.hash}`);
      for (const locale of LOCALES) {
        if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
        await page.getByRole('heading', { name: shown.heading(locale), level: 1 }).waitFor();
        const term = page.locator('dl.facts dt', { hasText: consoleString(locale, 'importMark.label') });
        await term.waitFor();
        const value = (await term.locator('xpath=following-sibling::dd[1]').innerText()).replace(/[\u2066-\u2069]/g, '');
        expect(value, `${shown.name} ${locale}`).to.equal(consoleString(locale, 'importMark.keycloak', { realm: REALM }));
        expect(await seriousViolations(page), `${shown.name} ${locale}`).to.deep.equal([]);
        await screenshot(page, `console-import-mark-${shown.name}-${locale}`);
      }
      await chooseConsoleLocale(page, 'en', 'h1');
    }
    await page.goto(`${deploy.issuer}/console/#/clients/local-web`);
    await page.getByRole('heading', { name: consoleString('en', 'client.heading', { client: 'Local web' }), level: 1 }).waitFor();
    expect(await page.locator('dl.facts dt', { hasText: consoleString('en', 'importMark.label') }).count()).to.equal(0);
    await page.context().close();
  });

  // Round 27's console showed grant types raw (authorization_code, urn:ietf:params:oauth:grant-type:device_code): a label in the admin's language now, the identifier beside it.
  it("names a client's grant types in the admin's language, each identifier still beside it (the client's page) or its tooltip (the list)", async () => {
    const token = await (await adminClient(gatehouse)).token();
    const changed = await callAdmin(gatehouse.url, token, 'PATCH', '/clients/local-web', { grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    const grants = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];
    const key = (grant: string) => `grant.${grant.startsWith('urn:') ? 'device_code' : grant}`;
    const page = await operatorPage(deploy.issuer);
    for (const locale of LOCALES) {
      await page.goto(`${deploy.issuer}/console/#/clients/local-web`);
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      await page.getByRole('heading', { name: consoleString(locale, 'client.heading', { client: 'Local web' }), level: 1 }).waitFor();
      const shown = await page.locator('dl.facts dt', { hasText: consoleString(locale, 'clients.col.grants') }).locator('xpath=following-sibling::dd[1]//li').allInnerTexts();
      expect(shown.map((text) => text.replace(/\s+/g, ' ')), locale).to.deep.equal(grants.map((grant) => `${consoleString(locale, key(grant))} ${grant}`));
      const boxes = (await page.locator('#f-grant_types label').allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
      expect(boxes, `${locale}: the form's boxes`).to.include(`${consoleString(locale, key(grants[2]!))} ${grants[2]}`);
      await page.goto(`${deploy.issuer}/console/#/clients?q=local-web`);
      const cell = page.locator('tbody tr', { hasText: 'local-web' }).locator('span.grants > span');
      await cell.first().waitFor();
      expect(await cell.evaluateAll((spans) => spans.map((span) => [span.textContent, span.getAttribute('title')])), `${locale}: the list`).to.deep.equal(grants.map((grant) => [consoleString(locale, key(grant)), grant]));
      await screenshot(page, `console-client-grants-${locale}`);
      if (locale !== 'en') await chooseConsoleLocale(page, 'en', 'h1');
    }
    await page.context().close();
  });
});
