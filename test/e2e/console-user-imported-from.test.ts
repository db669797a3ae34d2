import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
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

/** The console's user page says which Keycloak realm an import created the user from (the admin API's imported_from); nothing for a user made here. */
describe('admin console: a user imported from Keycloak (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let importedId: string;
  let nativeId: string;

  before(async () => {
    deploy = await deployment('console_user_imported_from');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    // As a Keycloak import writes its users: the stored document with the realm's mark.
    const made = await gatehouse.services.accounts.createUser({ username: 'kc-alice', email: 'alice@example.com' });
    const stored = (await gatehouse.services.users.storedById(made.id))!;
    await gatehouse.services.users.importOne({ ...stored, importedFrom: { kind: 'keycloak', realm: 'acme-production' } });
    importedId = made.id;
    nativeId = (await gatehouse.services.accounts.createUser({ username: 'native-nina' })).id;
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-user-imported-from');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('shows "Imported from: Keycloak realm <realm>" among the facts in four languages; a user made here shows none', async () => {
    const page = await operatorPage(deploy.issuer);
    await page.goto(`${deploy.issuer}/console/#/users/${encodeURIComponent(importedId)}`);
    for (const locale of LOCALES) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      await page.getByRole('heading', { name: consoleString(locale, 'user.heading', { user: 'kc-alice' }), level: 1 }).waitFor();
      const term = page.locator('dl.facts dt', { hasText: consoleString(locale, 'user.importedFrom') });
      await term.waitFor();
      const value = (await term.locator('xpath=following-sibling::dd[1]').innerText()).replace(/[\u2066-\u2069]/g, '');
      expect(value, locale).to.equal(consoleString(locale, 'user.importedFromKeycloak', { realm: 'acme-production' }));
      expect(await seriousViolations(page), locale).to.deep.equal([]);
      await screenshot(page, `console-user-imported-from-${locale}`);
    }
    await chooseConsoleLocale(page, 'en', 'h1');
    await page.goto(`${deploy.issuer}/console/#/users/${encodeURIComponent(nativeId)}`);
    await page.getByRole('heading', { name: consoleString('en', 'user.heading', { user: 'native-nina' }), level: 1 }).waitFor();
    expect(await page.locator('dl.facts dt', { hasText: consoleString('en', 'user.importedFrom') }).count()).to.equal(0);
    await page.context().close();
  });
});
