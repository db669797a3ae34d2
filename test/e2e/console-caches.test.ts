import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { chooseConsoleLocale, consoleOperator, launchChromium, screenshot, seriousViolations } from './browser.ts';

/** A string of the console's locale file with its values filled in, as the console shows it. */
function consoleString(locale: string, key: string, values: Record<string, string | number> = {}): string {
  const strings = JSON.parse(readFileSync(new URL(`../../src/console/web/locales/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;
  expect(strings[key], `${locale}: ${key}`).to.be.a('string');
  return strings[key]!.replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}

/**
 * "Flush caches" in the admin console (README "Backups and restore": `gatehouse caches flush`,
 * `POST /admin/api/v1/caches/flush`): on the Settings page, a confirmed action; with Redis every
 * instance hears it (audited), without Redis the console says why nothing can be flushed — in
 * the operator's language.
 */
for (const withRedis of [true, false]) {
  describe(`admin console: flush caches (${withRedis ? 'Redis' : 'no Redis'}; headless Chromium)`, function () {
    this.timeout(180_000);
    let deploy: Deployment;
    let gatehouse: RunningGatehouse;
    let browser: Browser;

    before(async () => {
      deploy = await deployment(`console_caches_${withRedis ? 'redis' : 'mongo'}`, { redis: withRedis });
      gatehouse = await deploy.start();
      await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
      browser = await launchChromium();
    });
    const operatorPage = consoleOperator(() => browser, `console-caches-${withRedis ? 'redis' : 'mongo'}`);
    after(async () => {
      await browser?.close();
      await gatehouse?.close();
      await deploy?.drop();
    });

    it(withRedis ? 'flushes every instance\'s caches after a confirmation, says how many heard it, and audits it' : 'says, in the operator\'s language, that without Redis there is nothing to flush', async () => {
      // One signed-in page; each locale chosen in the console's language picker, which draws the Settings page again in it.
      const page = await operatorPage(deploy.issuer);
      await page.goto(`${deploy.issuer}/console/#/settings`);
      for (const locale of ['en', 'ru', 'zh-CN', 'ko']) {
        if (locale !== 'en') await chooseConsoleLocale(page, locale, 'h2');
        await page.getByRole('heading', { name: consoleString(locale, 'caches.heading'), level: 2 }).waitFor();
        await page.getByRole('button', { name: consoleString(locale, 'caches.flush.button') }).click();
        await page.getByRole('button', { name: consoleString(locale, 'caches.flush.confirm') }).click();
        if (withRedis) {
          // This instance's subscriptions heard each notice.
          await page.getByText(consoleString(locale, 'caches.flushed', { listeners: 1 })).waitFor();
        } else {
          await page.getByRole('alert').getByText(consoleString(locale, 'problem.caches_not_shared')).waitFor();
        }
        expect(await seriousViolations(page), locale).to.deep.equal([]);
        await screenshot(page, `console-caches-${withRedis ? 'flushed' : 'no-redis'}-${locale}`);
      }
      await page.context().close();
      await gatehouse.flushBatchedWrites();
      const flushed = await gatehouse.services.audit.query({ types: ['caches.flushed'], limit: 10 });
      expect(flushed.events, 'one caches.flushed per flush, by the operator').to.have.length(withRedis ? 4 : 0);
      for (const event of flushed.events) expect(event.actor.type).to.equal('user');
    });
  });
}
