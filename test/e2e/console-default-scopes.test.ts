import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { claimScopeCreateSchema } from '../../src/claims/spec.ts';
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

/** The console's client page edits a client's default scopes (Keycloak's default client scopes), with the admin API's refusal under the field, in every locale. */
describe('admin console: client default scopes (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let clientId: string;

  before(async () => {
    deploy = await deployment('console_default_scopes');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    await gatehouse.services.claimScopes.create(claimScopeCreateSchema.parse({ name: 'department', mappers: [{ type: 'user_attribute', attribute: 'department', claim: 'department' }] }));
    const { client } = await gatehouse.services.clients.create({
      displayName: 'Intranet',
      metadata: { redirect_uris: ['https://intranet.example/cb'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile' },
    });
    clientId = client.clientId;
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-default-scopes');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  const control = (page: Page, path: string) => page.locator(`[id="f-${path}"]`);

  it('sets them (one outside the allowed scopes refused under the field), shows them in four languages', async () => {
    const page = await operatorPage(deploy.issuer);
    await page.goto(`${deploy.issuer}/console/#/clients/${encodeURIComponent(clientId)}`);
    await page.getByRole('heading', { name: consoleString('en', 'client.heading', { client: 'Intranet' }), level: 1 }).waitFor();
    expect(await control(page, 'default_scopes').inputValue()).to.equal('');
    await control(page, 'default_scopes').fill('department');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.locator('[id="f-default_scopes-error"]').getByText(consoleString('en', 'problem.not_in_scope', { scope: 'department' })).waitFor();
    expect(await control(page, 'default_scopes').getAttribute('aria-invalid')).to.equal('true');
    await screenshot(page, 'console-client-default-scopes-refused-en');
    expect((await gatehouse.services.clients.get(clientId))?.metadata.default_scopes).to.equal(undefined);

    // Allowed and made default in one save.
    await control(page, 'scope').fill('openid profile department');
    await control(page, 'default_scopes').fill('department profile');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.saved')).waitFor();
    expect((await gatehouse.services.clients.get(clientId))?.metadata.default_scopes).to.deep.equal(['department', 'profile']);

    for (const locale of LOCALES) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      await page.getByRole('heading', { name: consoleString(locale, 'client.heading', { client: 'Intranet' }), level: 1 }).waitFor();
      await page.getByLabel(consoleString(locale, 'client.field.default_scopes')).waitFor();
      expect(await control(page, 'default_scopes').inputValue()).to.equal('department profile');
      await page.getByText(consoleString(locale, 'client.hint.default_scopes')).waitFor();
      expect(await seriousViolations(page), locale).to.deep.equal([]);
      await screenshot(page, `console-client-default-scopes-${locale}`);
    }

    // Emptied: unset again; saving the untouched page changes nothing.
    await chooseConsoleLocale(page, 'en', 'h1');
    await control(page, 'default_scopes').fill('');
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.saved')).waitFor();
    expect((await gatehouse.services.clients.get(clientId))?.metadata.default_scopes).to.equal(undefined);
    await page.getByRole('button', { name: consoleString('en', 'client.save') }).click();
    await page.getByText(consoleString('en', 'client.unchanged')).waitFor();
    await page.context().close();
  });
});
