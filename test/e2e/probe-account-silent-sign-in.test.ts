import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/account-client.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, reportFailedPage } from './browser.ts';

const SESSION_TTL = 3600;

/**
 * Probe (probe25): the account page's silent sign-in (prompt=none once per visit, round 24) when
 * the provider's session is no good — its user disabled, or the session past GATEHOUSE_SESSION_TTL —
 * and when someone else's link hands the page an OAuth answer it never asked for. Each time: one
 * silent authorization request at most, then the sign-in page, no tokens in the tab, and nothing a
 * link's author wrote (error_description) shown as the page's own words.
 */
describe('probe: the account page signs in silently only with a live session of an active user (headless Chromium)', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let clock: TestClock;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let current: Page | undefined;
  let accountUrl: string;
  let token: string;

  before(async () => {
    clock = testClock();
    deploy = await deployment('probe_account_silent', { host: 'localhost', settings: { HOST: '127.0.0.1', GATEHOUSE_SESSION_TTL: String(SESSION_TTL) }, clock });
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    accountUrl = `${deploy.issuer}/account/`;
    browser = await launchChromium();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await reportFailedPage(current, `probe-account-silent-${this.currentTest.title.slice(0, 24).replace(/\W+/g, '-')}`);
    for (const context of contexts) await context.close();
    contexts = [];
    current = undefined;
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  const newContext = async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    contexts.push(context);
    return context;
  };
  /** The account client's authorization requests a tab makes, by their `prompt` ('' for none). */
  const authorizationPrompts = (tab: Page): string[] => {
    const prompts: string[] = [];
    tab.on('request', (request) => {
      const url = new URL(request.url());
      if (request.isNavigationRequest() && url.searchParams.get('client_id') === ACCOUNT_CLIENT_ID && url.searchParams.has('code_challenge')) prompts.push(url.searchParams.get('prompt') ?? '');
    });
    return prompts;
  };
  /** Signs `username` in through the page's button in a new tab of `context`; the provider's session cookie stays in the context. */
  const signedIn = async (context: BrowserContext, username: string) => {
    const tab = (current = await context.newPage());
    await tab.goto(accountUrl);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.waitForSelector('#username');
    await tab.fill('#username', username);
    await tab.fill('#password', PASSWORD);
    await tab.click('button.primary');
    await tab.locator('header .user').waitFor();
    return tab;
  };
  /** A new tab's visit to `url`: the sign-in page it ends on, the silent tries it made, whether it holds tokens, any alert. */
  const visit = async (context: BrowserContext, url = accountUrl) => {
    const tab = (current = await context.newPage());
    const prompts = authorizationPrompts(tab);
    await tab.goto(url);
    await tab.getByRole('button', { name: 'Sign in' }).waitFor();
    const alerts = await tab.getByRole('alert').allTextContents();
    const tokens = await tab.evaluate(() => sessionStorage.getItem('gatehouse.account.tokens'));
    return { tab, prompts, alerts, tokens };
  };
  const newUser = (username: string) => gatehouse.services.accounts.createUser({ username, password: PASSWORD, email: `${username}@example.com`, emailVerified: true });

  it('a user disabled since signing in: one silent try, then the sign-in page, no tokens, no alert', async () => {
    const user = await newUser('soon-disabled');
    const context = await newContext();
    const signedInTab = await signedIn(context, user.username);
    expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${user.id}/disable`)).status).to.be.oneOf([200, 204]);
    const { prompts, alerts, tokens } = await visit(context);
    expect(prompts).to.deep.equal(['none']);
    expect(alerts).to.deep.equal([]);
    expect(tokens).to.equal(null);
    // The tab that signed in, reloaded: its tokens refused, they go; one silent try, then the sign-in page.
    const again = authorizationPrompts(signedInTab);
    current = signedInTab;
    await signedInTab.reload();
    await signedInTab.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(again).to.deep.equal(['none']);
    expect(await signedInTab.getByRole('alert').count()).to.equal(0);
    expect(await signedInTab.evaluate(() => sessionStorage.getItem('gatehouse.account.tokens'))).to.equal(null);
  });

  it('a session past GATEHOUSE_SESSION_TTL: one silent try, then the sign-in page, no tokens, no alert', async () => {
    const user = await newUser('long-gone');
    const context = await newContext();
    await signedIn(context, user.username);
    await clock.advance((SESSION_TTL + 60) * 1000);
    const { prompts, alerts, tokens } = await visit(context);
    expect(prompts).to.deep.equal(['none']);
    expect(alerts).to.deep.equal([]);
    expect(tokens).to.equal(null);
  });

  it("an OAuth answer the tab never asked for (someone's link): its error_description is not shown, no code is redeemed", async () => {
    const context = await newContext();
    const words = 'Your account is locked. Call support at +1 555 0100 now';
    const crafted = `${accountUrl}?${new URLSearchParams({ error: 'access_denied', error_description: words, state: 'made-up' }).toString()}`;
    const { tab, alerts, tokens } = await visit(context, crafted);
    expect(alerts.join(' ')).not.to.include('Call support');
    expect(await tab.locator('body').textContent()).not.to.include('Call support');
    expect(tokens).to.equal(null);
    expect(new URL(tab.url()).search, 'the answer is gone from the address').to.equal('');
    // A code under a state this tab did not make is never sent to the token endpoint.
    const withCode = await newContext();
    const second = (current = await withCode.newPage());
    const redeemed: string[] = [];
    second.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/token')) redeemed.push(request.postData() ?? '');
    });
    await second.goto(`${accountUrl}?code=someone-elses-code&state=made-up`);
    await second.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(redeemed.filter((body) => body.includes('someone-elses-code'))).to.deep.equal([]);
  });
});
