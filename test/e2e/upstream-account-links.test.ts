import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AuditEventType } from '../../src/observability/audit-types.ts';
import { PASSWORD } from '../helpers/e2e.ts';
import { freshTab, launchChromium, reportFailedPage, screenshot, seriousViolations } from './browser.ts';
import { secondGatehouseUpstream, type UpstreamPair } from './upstream.ts';

/**
 * Linked accounts on the account page, end to end: a second Gatehouse (on `localhost`, its own
 * database) is the upstream provider of the Gatehouse under test (on 127.0.0.1). A signed-in
 * user connects an upstream account (after a recent sign-in), sees it listed, removes it; an
 * upstream account linked to someone else is refused; the last way to sign in cannot be removed.
 */
describe('linked accounts on the account page (headless Chromium, a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  let pair: UpstreamPair;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let accountUrl: string;
  let clockOffset = 0;
  const errors: string[] = [];

  async function freshBrowser(locale = 'en-US') {
    ({ context, page } = await freshTab(browser, context, { viewport: { width: 1000, height: 1000 }, locale }));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) errors.push(message.text());
    });
  }

  /** Signs in to the account page with a local password and opens "Sign-in & security". */
  async function accountSignIn(username: string) {
    await page.goto(accountUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#username');
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await security();
  }

  async function security() {
    await page.getByRole('navigation').getByRole('link', { name: 'Sign-in & security' }).click();
    await page.getByRole('heading', { name: 'Linked accounts', level: 2 }).waitFor();
  }

  /** At the upstream's sign-in page (when it asks): signs in there. */
  const atUpstream = (username: string) => pair.signInUpstream(page, username);

  async function audit(types: AuditEventType[]) {
    await pair.gatehouse.flushBatchedWrites();
    return (await pair.gatehouse.audit.query({ limit: 100, types })).events;
  }

  before(async () => {
    pair = await secondGatehouseUpstream('e2e_uplinks', {
      aliases: ['corp'],
      users: [
        { username: 'rita', email: 'rita@corp.example', emailVerified: true, name: 'Rita' },
        { username: 'sam', email: 'sam@corp.example', emailVerified: true, name: 'Sam' },
      ],
      secondFactorClock: () => new Date(Date.now() + clockOffset),
    });
    accountUrl = `${pair.downDeploy.issuer}/account/`;
    await pair.addProvider('corp', { display_name: 'Corp SSO' });
    await pair.gatehouse.services.accounts.createUser({ username: 'lena', password: PASSWORD, email: 'lena@example.com', emailVerified: true, name: 'Lena' });
    await pair.gatehouse.services.accounts.createUser({ username: 'max', password: PASSWORD, email: 'max@example.com', emailVerified: true, name: 'Max' });
    browser = await launchChromium();
  });

  afterEach(async function () {
    clockOffset = 0;
    if (this.currentTest?.state === 'failed') await reportFailedPage(page, `links-failed-${this.currentTest.title.slice(0, 24).replace(/\W+/g, '-')}`);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await pair?.close();
  });

  it('connects an upstream account after a recent sign-in, lists it, and audits it with the user as actor', async () => {
    await freshBrowser();
    await accountSignIn('lena');
    expect(await page.textContent('#links-heading + p + p')).to.contain('No accounts from other providers are linked.');
    // Not a recent sign-in any more: connecting asks to sign in again first.
    clockOffset = 10 * 60 * 1000;
    await page.getByRole('button', { name: 'Connect Corp SSO' }).click();
    await page.getByRole('button', { name: 'Sign in again' }).waitFor();
    clockOffset = 0;
    await page.getByRole('button', { name: 'Connect Corp SSO' }).click();
    await atUpstream('rita');
    await page.getByText('Your Corp SSO account is now linked. You can sign in with it.').waitFor();
    const row = page.locator('tr[data-link=corp]');
    expect(await row.textContent()).to.contain('Corp SSO').and.contain('rita@corp.example');
    // The outcome said, the page takes it out of its address (history.replaceState, in the task that draws the notice): read
    // from the page, which has it then, not from page.url(), which follows the browser's report of it.
    expect(await page.evaluate(() => location.href)).to.equal(`${accountUrl}#/security`);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-linked-accounts-en');
    const lena = await pair.gatehouse.services.accounts.findByLogin('lena');
    expect((await pair.gatehouse.services.upstream.linksOf(lena!.id)).map((link) => [link.provider, link.label])).to.deep.equal([['corp', 'rita@corp.example']]);
    const linked = (await audit(['upstream.linked'])).find((event) => event.details.by === 'account_page');
    expect(linked?.actor).to.include({ type: 'user', id: lena!.id });
    expect(errors).to.deep.equal([]);
  });

  it('refuses an upstream account that is linked to another user, with a clear message', async () => {
    await freshBrowser();
    await accountSignIn('max');
    await page.getByRole('button', { name: 'Connect Corp SSO' }).click();
    await atUpstream('rita');
    await page.getByText('That Corp SSO account is already linked to another user, so it cannot be linked to yours.').waitFor();
    const max = await pair.gatehouse.services.accounts.findByLogin('max');
    expect(await pair.gatehouse.services.upstream.linksOf(max!.id)).to.deep.equal([]);
  });

  it('the card ends under its Connect buttons as every card ends (its padding, no blank line), in each language at 390 and 1280 px', async () => {
    await pair.gatehouse.services.accounts.createUser({ username: 'nora', password: PASSWORD, email: 'nora@example.com', emailVerified: true, name: 'Nora' });
    await freshBrowser();
    await accountSignIn('nora');
    try {
      for (const width of [390, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        for (const locale of ['ru', 'zh-CN', 'ko', 'en'] as const) {
          await page.selectOption('#language', locale);
          await page.waitForFunction((chosen) => document.documentElement.lang === chosen, locale);
          const below = await page.locator('button[data-connect="corp"]').evaluate((button) => {
            const card = button.closest('section')!;
            const style = getComputedStyle(card);
            return { space: card.getBoundingClientRect().bottom - button.getBoundingClientRect().bottom, padding: parseFloat(style.paddingBottom) + parseFloat(style.borderBottomWidth) };
          });
          expect(below.space, `${locale} at ${width} px: ${JSON.stringify(below)}`).to.be.closeTo(below.padding, 1);
          await screenshot(page, `account-linked-accounts-connect-${locale}-${width}`);
        }
      }
    } finally {
      await page.selectOption('#language', 'en');
    }
  });

  it('removes a link when the user can still sign in another way; audited with the user as actor', async () => {
    await freshBrowser();
    await accountSignIn('lena');
    await page.getByRole('button', { name: 'Remove Corp SSO' }).click();
    await page.getByRole('button', { name: 'Yes, remove Corp SSO' }).click();
    await page.getByText('Corp SSO was removed. You can no longer sign in with it.').waitFor();
    const lena = await pair.gatehouse.services.accounts.findByLogin('lena');
    expect(await pair.gatehouse.services.upstream.linksOf(lena!.id)).to.deep.equal([]);
    const unlinked = await audit(['user.upstream_unlinked']);
    expect(unlinked[0]?.actor).to.include({ type: 'user', id: lena!.id });
  });

  it('refuses to remove the last way to sign in (no password, no passkey, no other link), localized', async () => {
    await freshBrowser('ru-RU');
    // A just-in-time account: signs in only through Corp SSO.
    await page.goto(accountUrl);
    await page.locator('button').filter({ hasText: /Войти|Sign in/ }).first().click();
    await page.click('a.upstream[data-provider=corp]');
    await atUpstream('sam');
    await page.waitForSelector('#upstream-create');
    await page.click('#upstream-create');
    await page.getByRole('navigation').waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Вход и безопасность' }).click();
    await page.getByRole('heading', { name: 'Связанные аккаунты', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Удалить Corp SSO' }).click();
    await page.getByRole('button', { name: 'Да, удалить Corp SSO' }).click();
    await page.getByText('Это ваш единственный способ входа.', { exact: false }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-linked-accounts-last-method-ru');
    const sam = (await pair.gatehouse.services.upstream.findLink('corp', (await pair.upstream.services.accounts.findByLogin('sam'))!.id))!;
    expect(sam, 'the link stays').to.not.equal(undefined);
  });

  it('a Connect URL links only in the browser of the user it was issued to: sent to someone else, it links nothing', async () => {
    // Lena's own Connect URL, as her account page would get it; she sends it to Max instead of following it.
    const lena = await pair.gatehouse.services.accounts.findByLogin('lena');
    for (const victim of [undefined, 'max']) {
      await freshBrowser();
      if (victim !== undefined) await accountSignIn(victim);
      const ticket = await pair.gatehouse.services.upstreamLinkTickets.issue({ userId: lena!.id, provider: 'corp' });
      await page.goto(`${pair.downDeploy.issuer}/upstream/corp/link?ticket=${ticket}`);
      // Back on the account page, never at the upstream (where Max's own upstream account would be linked to Lena).
      // The URL it lands on, read there: a signed-out account page leaves at once for its silent sign-in.
      let landed = '';
      await page.waitForURL((current) => (landed = current.toString()).startsWith(accountUrl));
      expect(landed, String(victim)).to.contain('upstream=expired');
    }
    expect(await pair.gatehouse.services.upstream.linksOf(lena!.id)).to.deep.equal([]);
  });

  it('a link ticket is good once: a replayed Connect URL changes nothing', async () => {
    await freshBrowser();
    await accountSignIn('lena');
    const lena = await pair.gatehouse.services.accounts.findByLogin('lena');
    const ticket = await pair.gatehouse.services.upstreamLinkTickets.issue({ userId: lena!.id, provider: 'corp' });
    const url = `${pair.downDeploy.issuer}/upstream/corp/link?ticket=${ticket}`;
    await page.goto(url);
    await page.waitForURL((current) => current.origin === pair.upDeploy.issuer);
    // The URL it lands on, read there: the signed-in account page says the outcome once and takes it out of the address.
    let landed = '';
    await page.goto(url);
    await page.waitForURL((current) => (landed = current.toString()).startsWith(accountUrl));
    expect(landed).to.contain('upstream=expired');
    await page.getByRole('heading', { name: 'Linked accounts', level: 2 }).waitFor();
    await page.goto(`${pair.downDeploy.issuer}/upstream/corp/link?ticket=${'A'.repeat(43)}`);
    await page.waitForURL((current) => (landed = current.toString()).startsWith(accountUrl));
    expect(landed).to.contain('upstream=expired');
  });
});
