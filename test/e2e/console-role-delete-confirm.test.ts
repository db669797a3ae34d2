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

/**
 * The console's roles page says, before a role is deleted, that it also leaves clients' service
 * accounts and the default roles (src/operations/role-references.ts), in every locale — and, for a
 * role that requires a second factor, that it stops requiring one; groups keep their own wording.
 */
describe('admin console: deleting a role says what it is taken off (headless Chromium)', function () {
  this.timeout(240_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    deploy = await deployment('console_role_delete_confirm');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    await gatehouse.services.roles.create('ledger-writer');
    await gatehouse.services.roles.create('vault-keeper');
    await gatehouse.services.groups.create('cash-office');
    await gatehouse.services.runtimeSettings.mfa.update({ mfa_required_roles: ['vault-keeper'], mfa_required_groups: ['cash-office'] });
    await gatehouse.services.groups.create('night-shift');
    browser = await launchChromium();
  });
  const operatorPage = consoleOperator(() => browser, 'console-role-delete-confirm');
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('the confirmation names users, clients and the default roles, and a second factor no longer required; confirmed, the role or group is gone', async () => {
    const page = await operatorPage(deploy.issuer);
    await page.goto(`${deploy.issuer}/console/#/roles`);
    for (const locale of LOCALES) {
      if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h1');
      const row = page.locator('tr', { hasText: 'ledger-writer' });
      await row.getByRole('button', { name: consoleString(locale, 'labels.delete'), exact: true }).click();
      const confirm = row.getByRole('button', { name: consoleString(locale, 'roles.delete.confirm', { name: 'ledger-writer' }) });
      await confirm.waitFor();
      expect(await seriousViolations(page), locale).to.deep.equal([]);
      await screenshot(page, `console-role-delete-confirm-${locale}`);
      await page.setViewportSize({ width: 390, height: 844 });
      await confirm.scrollIntoViewIfNeeded();
      await screenshot(page, `console-role-delete-confirm-${locale}-390`);
      await page.setViewportSize({ width: 1280, height: 800 });
      // A role that requires a second factor: the confirmation says it stops requiring one.
      const mfaRow = page.locator('tr', { hasText: 'vault-keeper' });
      await mfaRow.getByRole('button', { name: consoleString(locale, 'labels.delete'), exact: true }).click();
      const mfaConfirm = mfaRow.getByRole('button', { name: consoleString(locale, 'roles.delete.confirmMfa', { name: 'vault-keeper' }) });
      await mfaConfirm.waitFor();
      await mfaConfirm.scrollIntoViewIfNeeded();
      await screenshot(page, `console-role-delete-confirm-mfa-${locale}`);
      await page.setViewportSize({ width: 390, height: 844 });
      await mfaConfirm.scrollIntoViewIfNeeded();
      await screenshot(page, `console-role-delete-confirm-mfa-${locale}-390`);
      await page.setViewportSize({ width: 1280, height: 800 });
      const groupRow = page.locator('tr', { hasText: 'night-shift' });
      await groupRow.getByRole('button', { name: consoleString(locale, 'labels.delete'), exact: true }).click();
      await groupRow.getByRole('button', { name: consoleString(locale, 'labels.delete.confirm', { name: 'night-shift' }) }).waitFor();
      // A group that requires a second factor: said too.
      const mfaGroupRow = page.locator('tr', { hasText: 'cash-office' });
      await mfaGroupRow.getByRole('button', { name: consoleString(locale, 'labels.delete'), exact: true }).click();
      const mfaGroupConfirm = mfaGroupRow.getByRole('button', { name: consoleString(locale, 'groups.delete.confirmMfa', { name: 'cash-office' }) });
      await mfaGroupConfirm.waitFor();
      await mfaGroupConfirm.scrollIntoViewIfNeeded();
      await screenshot(page, `console-group-delete-confirm-mfa-${locale}`);
      await page.reload();
    }
    const row = page.locator('tr', { hasText: 'ledger-writer' });
    await row.getByRole('button', { name: consoleString('ko', 'labels.delete'), exact: true }).click();
    await row.getByRole('button', { name: consoleString('ko', 'roles.delete.confirm', { name: 'ledger-writer' }) }).click();
    await page.getByText(consoleString('ko', 'labels.deleted', { name: 'ledger-writer' })).waitFor();
    expect(await gatehouse.services.roles.get('ledger-writer')).to.equal(undefined);
    const mfaRow = page.locator('tr', { hasText: 'vault-keeper' });
    await mfaRow.getByRole('button', { name: consoleString('ko', 'labels.delete'), exact: true }).click();
    await mfaRow.getByRole('button', { name: consoleString('ko', 'roles.delete.confirmMfa', { name: 'vault-keeper' }) }).click();
    await page.getByText(consoleString('ko', 'labels.deleted', { name: 'vault-keeper' })).waitFor();
    expect((await gatehouse.services.runtimeSettings.mfa.read()).settings.mfa_required_roles).to.deep.equal([]);
    const groupRow = page.locator('tr', { hasText: 'cash-office' });
    await groupRow.getByRole('button', { name: consoleString('ko', 'labels.delete'), exact: true }).click();
    await groupRow.getByRole('button', { name: consoleString('ko', 'groups.delete.confirmMfa', { name: 'cash-office' }) }).click();
    await page.getByText(consoleString('ko', 'labels.deleted', { name: 'cash-office' })).waitFor();
    expect((await gatehouse.services.runtimeSettings.mfa.read()).settings.mfa_required_groups).to.deep.equal([]);
    await page.context().close();
  });
});
