import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { chooseConsoleLocale, consoleOperator, launchChromium, resizeViewport, screenshot, seriousViolations } from './browser.ts';

const LOCALES = ['en', 'ru', 'zh-CN', 'ko'] as const;

/** A string of the console's locale file with its values filled in, as the console shows it. */
function consoleString(locale: string, key: string, values: Record<string, string | number> = {}): string {
  const strings = JSON.parse(readFileSync(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

/**
 * The console's claim-scope page (Keycloak's "Client scopes"): list, create with mappers, the admin
 * API's refusals under the fields they name, edit, delete after a confirmation — audited as the
 * API audits them, in every locale.
 */
describe('admin console: claim scopes (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    deploy = await deployment('console_claim_scopes');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-claim-scopes');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  const control = (page: Page, path: string) => page.locator(`[id="f-${path}"]`);

  it('creates a scope with mappers (refusals under their fields), edits it, and deletes it after a confirmation; audited with the operator as actor', async () => {
    const page = await operatorPage(deploy.issuer);
    await page.getByRole('link', { name: consoleString('en', 'nav.claim-scopes') }).click();
    await page.getByRole('heading', { name: consoleString('en', 'claimScopes.heading'), level: 1 }).waitFor();
    await page.getByText(consoleString('en', 'claimScopes.empty')).waitFor();

    await control(page, 'name').fill('department');
    await control(page, 'description.en').fill('See your department');
    await page.getByRole('button', { name: consoleString('en', 'claimScope.mapper.add') }).click();
    await control(page, 'mappers.0.claim').fill('email');
    await control(page, 'mappers.0.attribute').fill('department');
    await page.getByRole('button', { name: consoleString('en', 'claimScope.mapper.add') }).click();
    await control(page, 'mappers.1.type').selectOption('hardcoded');
    await control(page, 'mappers.1.claim').fill('level');
    await control(page, 'mappers.1.value_type').selectOption('number');
    await control(page, 'mappers.1.value').fill('three');
    await control(page, 'mappers.1.userinfo').uncheck();
    await page.getByRole('button', { name: consoleString('en', 'claimScopes.new.create') }).click();
    // Checked here first: a number field that holds no number never reaches the API.
    await page.locator('[id="f-mappers.1.value-error"]').getByText(consoleString('en', 'claimScope.mapper.notNumber')).waitFor();
    await control(page, 'mappers.1.value').fill('3');
    await page.getByRole('button', { name: consoleString('en', 'claimScopes.new.create') }).click();
    // The API's refusal, under the field it names, in the console's words.
    await page.locator('[id="f-mappers.0.claim-error"]').getByText(consoleString('en', 'problem.reserved_claim_name')).waitFor();
    expect(await control(page, 'mappers.0.claim').getAttribute('aria-invalid')).to.equal('true');
    expect(await gatehouse.services.claimScopes.list()).to.deep.equal([]);
    // A nested name with an empty level: the API's words under the field.
    await control(page, 'mappers.0.claim').fill('org..unit');
    await page.getByRole('button', { name: consoleString('en', 'claimScopes.new.create') }).click();
    await page.locator('[id="f-mappers.0.claim-error"]').getByText(consoleString('en', 'problem.mapped_claim_name')).waitFor();
    await control(page, 'mappers.0.claim').fill('org.department');
    await control(page, 'mappers.0.multivalued').check();
    await control(page, 'mappers.0.json_type').selectOption('int');
    await control(page, 'mappers.1.introspection').uncheck();
    await page.getByRole('button', { name: consoleString('en', 'claimScopes.new.create') }).click();
    await page.getByRole('heading', { name: consoleString('en', 'claimScope.heading', { name: 'department' }), level: 1 }).waitFor();

    const created = await gatehouse.services.claimScopes.get('department');
    expect(created?.description).to.deep.equal({ en: 'See your department' });
    expect(created?.mappers).to.deep.equal([
      { type: 'user_attribute', claim: 'org.department', attribute: 'department', jsonType: 'int', multivalued: true, idToken: true, accessToken: true, introspection: true, userinfo: true },
      { type: 'hardcoded', claim: 'level', value: 3, multivalued: false, idToken: true, accessToken: true, introspection: false, userinfo: false },
    ]);

    // Edit: a Russian text, the first mapper removed, the other's value a boolean.
    expect(await control(page, 'mappers.1.value').inputValue()).to.equal('3');
    expect(await control(page, 'mappers.0.json_type').inputValue()).to.equal('int');
    expect(await control(page, 'mappers.1.introspection').isChecked()).to.equal(false);
    await control(page, 'description.ru').fill('Видеть ваш отдел');
    await page.getByRole('button', { name: consoleString('en', 'claimScope.mapper.remove', { n: 1 }) }).click();
    await control(page, 'mappers.0.value_type').selectOption('boolean');
    await control(page, 'mappers.0.value').fill('true');
    await page.getByRole('button', { name: consoleString('en', 'claimScope.save') }).click();
    await page.getByText(consoleString('en', 'claimScope.saved')).waitFor();
    const edited = await gatehouse.services.claimScopes.get('department');
    expect(edited?.description).to.deep.equal({ en: 'See your department', ru: 'Видеть ваш отдел' });
    expect(edited?.mappers).to.deep.equal([{ type: 'hardcoded', claim: 'level', value: true, multivalued: false, idToken: true, accessToken: true, introspection: false, userinfo: false }]);

    // The list shows it, with its consent text in the operator's language.
    await page.getByRole('link', { name: consoleString('en', 'claimScope.back') }).click();
    await page.getByRole('link', { name: 'department' }).waitFor();
    await page.getByRole('cell', { name: 'See your department' }).waitFor();

    // Delete: nothing happens until the confirmation.
    await page.getByRole('link', { name: 'department' }).click();
    await page.getByRole('button', { name: consoleString('en', 'claimScope.delete.button') }).click();
    expect(await gatehouse.services.claimScopes.get('department')).not.to.equal(undefined);
    await page.getByRole('button', { name: consoleString('en', 'claimScope.delete.confirm', { name: 'department' }) }).click();
    await page.getByText(consoleString('en', 'claimScopes.empty')).waitFor();
    expect(await gatehouse.services.claimScopes.get('department')).to.equal(undefined);
    await page.context().close();

    await gatehouse.flushBatchedWrites();
    const events = await gatehouse.services.audit.query({ types: ['claim_scope.created', 'claim_scope.updated', 'claim_scope.deleted'], limit: 10 });
    expect(events.events.map((event) => event.type).sort()).to.deep.equal(['claim_scope.created', 'claim_scope.deleted', 'claim_scope.updated']);
    for (const event of events.events) expect(event.actor).to.include({ type: 'user', username: 'operator' });
  });

  /** The page on a phone: nothing wider than the screen, nothing axe calls serious; then back to 1280 px. */
  async function narrow(page: Page, name: string): Promise<void> {
    await resizeViewport(page, { width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth), name).to.be.at.most(390);
    expect(await seriousViolations(page), name).to.deep.equal([]);
    await screenshot(page, name);
    await resizeViewport(page, { width: 1280, height: 844 });
  }

  it('shows the list and a scope in en, ru, zh-CN and ko (1280 and 390 px), every string localized, without serious accessibility problems', async () => {
    const HR = { en: 'See your HR data', ru: 'Видеть ваши кадровые данные', 'zh-CN': '查看你的人事资料', ko: '인사 정보 보기' } as const;
    await gatehouse.services.claimScopes.create({
      name: 'hr',
      description: HR,
      mappers: [
        { type: 'user_attribute', claim: 'org.cost_center', attribute: 'cost_center', multivalued: false, json_type: 'long', id_token: true, access_token: true, userinfo: true },
        { type: 'hardcoded', claim: 'tenant', value: 'acme', id_token: true, access_token: false, userinfo: true },
      ],
    });
    const page = await operatorPage(deploy.issuer);
    await page.goto(`${deploy.issuer}/console/#/claim-scopes`);
    for (const locale of LOCALES) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      await page.getByRole('heading', { name: consoleString(locale, 'claimScopes.heading'), level: 1 }).waitFor();
      await page.getByRole('link', { name: consoleString(locale, 'nav.claim-scopes') }).waitFor();
      await page.getByRole('cell', { name: 'org.cost_center, tenant' }).waitFor();
      await page.getByRole('cell', { name: HR[locale] }).waitFor();
      await page.getByRole('heading', { name: consoleString(locale, 'claimScopes.new.heading') }).waitFor();
      expect(await seriousViolations(page), `${locale} list`).to.deep.equal([]);
      await screenshot(page, `console-claim-scopes-${locale}`);
      await narrow(page, `console-claim-scopes-390-${locale}`);

      await page.goto(`${deploy.issuer}/console/#/claim-scopes/hr`);
      await page.getByRole('heading', { name: consoleString(locale, 'claimScope.heading', { name: 'hr' }), level: 1 }).waitFor();
      await page.getByRole('group', { name: consoleString(locale, 'claimScope.mapper.legend', { n: 2 }) }).waitFor();
      expect(await control(page, 'description.ko').inputValue()).to.equal('인사 정보 보기');
      expect(await control(page, 'mappers.1.value').inputValue()).to.equal('acme');
      expect(await control(page, 'mappers.1.access_token').isChecked()).to.equal(false);
      expect(await control(page, 'mappers.1.introspection').isChecked()).to.equal(false);
      expect(await control(page, 'mappers.0.json_type').inputValue()).to.equal('long');
      expect(await page.locator('[id="f-mappers.1.attribute"]').isVisible()).to.equal(false);
      expect(await seriousViolations(page), `${locale} item`).to.deep.equal([]);
      await screenshot(page, `console-claim-scope-${locale}`);
      await narrow(page, `console-claim-scope-390-${locale}`);
      await page.goto(`${deploy.issuer}/console/#/claim-scopes`);
    }
    await page.context().close();
  });
});
