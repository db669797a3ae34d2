import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { chooseConsoleLocale, consoleOperator, launchChromium, screenshot, seriousViolations } from './browser.ts';

const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/** A string of the console's locale file with its values filled in, as the console shows it. */
function consoleString(locale: string, key: string, values: Record<string, string | number> = {}): string {
  const strings = JSON.parse(readFileSync(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

/** The console's client page edits a client's service-account roles (Keycloak's service accounts roles), with the admin API's refusal of admin under the field, in every locale. */
describe('admin console: client service-account roles (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let clientId: string;

  before(async () => {
    deploy = await deployment('console_service_account_roles');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Billing worker',
      metadata: { redirect_uris: [], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    });
    clientId = client.clientId;
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-service-account-roles');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  const control = (page: Page, path: string) => page.locator(`[id="f-${path}"]`);

  it('sets them one a line (admin refused under the field), shows them in four languages, empties them', async () => {
    const page = await operatorPage(deploy.issuer);
    await page.goto(`${deploy.issuer}/console/#/clients/${encodeURIComponent(clientId)}`);
    await page.getByRole('heading', { name: consoleString('en', 'client.heading', { client: 'Billing worker' }), level: 1 }).waitFor();
    expect(await control(page, 'service_account_roles').inputValue()).to.equal('');
    await control(page, 'service_account_roles').fill('billing\nadmin');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.locator('[id="f-service_account_roles-error"]').getByText(consoleString('en', 'problem.admin_service_account_role')).waitFor();
    expect(await control(page, 'service_account_roles').getAttribute('aria-invalid')).to.equal('true');
    await screenshot(page, 'console-client-service-account-roles-refused-en');
    expect((await gatehouse.services.clients.get(clientId))?.metadata.service_account_roles).to.equal(undefined);

    await control(page, 'service_account_roles').fill('billing\norders-api:orders.read\n');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.saved')).waitFor();
    expect((await gatehouse.services.clients.get(clientId))?.metadata.service_account_roles).to.deep.equal(['billing', 'orders-api:orders.read']);

    for (const locale of LOCALES) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      await page.getByRole('heading', { name: consoleString(locale, 'client.heading', { client: 'Billing worker' }), level: 1 }).waitFor();
      await page.getByLabel(consoleString(locale, 'client.field.service_account_roles')).waitFor();
      expect(await control(page, 'service_account_roles').inputValue()).to.equal('billing\norders-api:orders.read');
      await page.getByText(consoleString(locale, 'client.hint.service_account_roles')).waitFor();
      // Its grant types by name in the page's language, the protocol identifier on hover.
      await page.locator('dd span[title="client_credentials"]').filter({ hasText: consoleString(locale, 'grant.client_credentials') }).waitFor();
      expect(await seriousViolations(page), locale).to.deep.equal([]);
      await control(page, 'service_account_roles').scrollIntoViewIfNeeded();
      await screenshot(page, `console-client-service-account-roles-${locale}`);
    }

    // Emptied: none; saving the untouched page changes nothing.
    await chooseConsoleLocale(page, 'en', 'h1');
    await control(page, 'service_account_roles').fill('');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.saved')).waitFor();
    expect((await gatehouse.services.clients.get(clientId))?.metadata.service_account_roles).to.deep.equal([]);
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.unchanged')).waitFor();
    await page.context().close();
  });
});
