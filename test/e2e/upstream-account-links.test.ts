import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AuditEventType } from '../../src/observability/audit-types.ts';
import { upstreamOperations } from '../../src/operations/upstream.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, screenshot, seriousViolations } from './browser.ts';

/**
 * Linked accounts on the account page, end to end: a second Gatehouse (on `localhost`, its own
 * database) is the upstream provider of the Gatehouse under test (on 127.0.0.1). A signed-in
 * user connects an upstream account (after a recent sign-in), sees it listed, removes it; an
 * upstream account linked to someone else is refused; the last way to sign in cannot be removed.
 */
describe('linked accounts on the account page (headless Chromium, a second Gatehouse upstream)', function () {
  this.timeout(180_000);
  const actor = { actor: { type: 'system' as const, id: 'test' } };
  let upDeploy: Deployment;
  let downDeploy: Deployment;
  let upstream: RunningGatehouse;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let accountUrl: string;
  let clockOffset = 0;
  const errors: string[] = [];

  const callback = (alias: string) => `${downDeploy.issuer}/upstream/${alias}/callback`;

  async function freshBrowser(locale = 'en-US') {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1000, height: 1000 }, locale });
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) errors.push(message.text());
    });
  }

  /** Signs in to the account page with a local password and opens "Sign-in & security". */
  async function accountSignIn(username: string) {
    await page.goto(accountUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#login');
    await page.fill('#login', username);
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
  async function atUpstream(username: string) {
    await page.waitForURL((url) => url.origin === upDeploy.issuer);
    await page.fill('#login', username);
    await page.fill('#password', PASSWORD);
    await page.click('form[action$="/login"] button.primary');
  }

  async function audit(types: AuditEventType[]) {
    await gatehouse.flushBatchedWrites();
    return (await gatehouse.audit.query({ limit: 100, types })).events;
  }

  before(async () => {
    upDeploy = await deployment('e2e_uplinks_idp', { host: 'localhost' });
    downDeploy = await deployment('e2e_uplinks_rp', { secondFactorClock: () => new Date(Date.now() + clockOffset) });
    upstream = await upDeploy.start();
    gatehouse = await downDeploy.start();
    accountUrl = `${downDeploy.issuer}/account/`;

    await upstream.services.accounts.createUser({ username: 'rita', password: PASSWORD, email: 'rita@corp.example', emailVerified: true, name: 'Rita' });
    await upstream.services.accounts.createUser({ username: 'sam', password: PASSWORD, email: 'sam@corp.example', emailVerified: true, name: 'Sam' });
    const created = await upstream.services.clients.create({
      displayName: 'Gatehouse downstream',
      firstParty: true,
      metadata: { redirect_uris: [callback('corp')], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile email' },
    });
    await upstreamOperations(gatehouse.services).create(actor, {
      alias: 'corp',
      kind: 'oidc',
      display_name: 'Corp SSO',
      issuer: upDeploy.issuer,
      client_id: created.client.clientId,
      client_secret: created.secret!,
      scopes: ['openid', 'profile', 'email'],
    });
    await gatehouse.services.accounts.createUser({ username: 'lena', password: PASSWORD, email: 'lena@example.com', emailVerified: true, name: 'Lena' });
    await gatehouse.services.accounts.createUser({ username: 'max', password: PASSWORD, email: 'max@example.com', emailVerified: true, name: 'Max' });
    browser = await launchChromium();
  });

  afterEach(async function () {
    clockOffset = 0;
    if (this.currentTest?.state === 'failed' && page !== undefined && !page.isClosed()) {
      await screenshot(page, `links-failed-${this.currentTest.title.slice(0, 24).replace(/\W+/g, '-')}`);
      console.log('failed at', page.url(), (await page.locator('body').innerText()).slice(0, 800));
    }
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await gatehouse?.close();
    await upstream?.close();
    await downDeploy?.drop();
    await upDeploy?.drop();
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
    expect(page.url()).to.equal(`${accountUrl}#/security`);
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'account-linked-accounts-en');
    const lena = await gatehouse.services.accounts.findByLogin('lena');
    expect((await gatehouse.services.upstream.linksOf(lena!.id)).map((link) => [link.provider, link.label])).to.deep.equal([['corp', 'rita@corp.example']]);
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
    const max = await gatehouse.services.accounts.findByLogin('max');
    expect(await gatehouse.services.upstream.linksOf(max!.id)).to.deep.equal([]);
  });

  it('removes a link when the user can still sign in another way; audited with the user as actor', async () => {
    await freshBrowser();
    await accountSignIn('lena');
    await page.getByRole('button', { name: 'Remove Corp SSO' }).click();
    await page.getByRole('button', { name: 'Yes, remove Corp SSO' }).click();
    await page.getByText('Corp SSO was removed. You can no longer sign in with it.').waitFor();
    const lena = await gatehouse.services.accounts.findByLogin('lena');
    expect(await gatehouse.services.upstream.linksOf(lena!.id)).to.deep.equal([]);
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
    const sam = (await gatehouse.services.upstream.findLink('corp', (await upstream.services.accounts.findByLogin('sam'))!.id))!;
    expect(sam, 'the link stays').to.not.equal(undefined);
  });

  it('a link ticket is good once: a replayed Connect URL changes nothing', async () => {
    await freshBrowser();
    const lena = await gatehouse.services.accounts.findByLogin('lena');
    const ticket = await gatehouse.services.upstreamLinkTickets.issue({ userId: lena!.id, provider: 'corp' });
    const url = `${downDeploy.issuer}/upstream/corp/link?ticket=${ticket}`;
    await page.goto(url);
    await page.waitForURL((current) => current.origin === upDeploy.issuer);
    await page.goto(url);
    await page.waitForURL((current) => current.toString().startsWith(accountUrl));
    expect(page.url()).to.contain('upstream=expired');
    await page.goto(`${downDeploy.issuer}/upstream/corp/link?ticket=${'A'.repeat(43)}`);
    await page.waitForURL((current) => current.toString().startsWith(accountUrl));
    expect(page.url()).to.contain('upstream=expired');
  });
});
