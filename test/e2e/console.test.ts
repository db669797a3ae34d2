import { expect } from 'chai';
import type { Browser, Page, Request } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.ts';
import { CONSOLE_CLIENT_ID, ensureConsoleClient } from '../../src/console/client.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { launchChromium, screenshot, seriousViolations } from './browser.ts';

async function signInOnHostedPage(page: Page, username: string): Promise<void> {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
}

async function tokenStatus(issuer: string, clientId: string, secret: string): Promise<number> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`${clientId}:${secret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  });
  return response.status;
}

describe('admin console (headless Chromium)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let consoleUrl: string;

  before(async () => {
    deploy = await deployment('console');
    gatehouse = await deploy.start();
    consoleUrl = `${deploy.issuer}/console/`;
    await gatehouse.services.accounts.createUser({ username: 'operator', password: PASSWORD, roles: ['admin'] });
    await gatehouse.services.accounts.createUser({ username: 'visitor', password: PASSWORD });
    browser = await launchChromium();
  });
  let current: Page | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && current !== undefined && !current.isClosed()) {
      await screenshot(current, `console-failed-${this.currentTest.title.slice(0, 20).replace(/\W+/g, '-')}`);
      console.log('failed at', current.url(), (await current.locator('body').innerText()).slice(0, 500));
    }
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
    await deploy?.drop();
  });

  it('is a built-in public client that the admin API refuses to delete', async () => {
    const client = await gatehouse.services.clients.get(CONSOLE_CLIENT_ID);
    expect(client).to.include({ admin: true, firstParty: true });
    expect(client!.metadata).to.include({ token_endpoint_auth_method: 'none', require_pkce: true });
    expect(client!.metadata.redirect_uris).to.deep.equal([consoleUrl]);
    // Ensured on every start: a moved public URL moves its redirect URI and web origin.
    const ensure = (url: string) => ensureConsoleClient({ clients: gatehouse.services.clients, adminAudience: gatehouse.services.adminAudience, consoleUrl: url });
    await ensure('https://moved.example.com/console/');
    const moved = (await gatehouse.services.clients.get(CONSOLE_CLIENT_ID))!;
    expect(moved.metadata.redirect_uris).to.deep.equal(['https://moved.example.com/console/']);
    expect(moved.webOrigins).to.deep.equal(['https://moved.example.com']);
    await ensure(consoleUrl);
    const ops = await adminClient(gatehouse);
    const refused = await callAdmin(deploy.issuer, await ops.token(), 'DELETE', `/clients/${CONSOLE_CLIENT_ID}`);
    expect(refused.status).to.equal(400);
    expect(JSON.stringify(refused.body)).to.include('built in');
    expect(await gatehouse.services.clients.get(CONSOLE_CLIENT_ID)).to.not.equal(undefined);
  });

  it('serves its page with a CSP that forbids inline script and allows connect-src self', async () => {
    const response = await fetch(consoleUrl);
    expect(response.status).to.equal(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("script-src 'self'").and.include("connect-src 'self'");
    expect(csp).to.not.include('unsafe-inline');
    const html = await response.text();
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = await fetch(`${deploy.issuer}/console/assets/app.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.include('javascript');
    expect((await fetch(`${deploy.issuer}/console/assets/nothing.js`)).status).to.equal(404);
  });

  it('operator journey: sign in, create a client, use its secret, rotate, edit, delete, find it all in the audit log, sign out', async function () {
    this.timeout(120_000);
    const context = await browser.newContext();
    const page = await context.newPage();
    current = page;
    const calls: string[] = [];
    page.on('request', (request: Request) => {
      if (page.url().startsWith(consoleUrl) && request.resourceType() !== 'document') calls.push(request.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInOnHostedPage(page, 'operator');
    await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
    expect(await page.locator('table').textContent()).to.include(CONSOLE_CLIENT_ID);
    expect(await seriousViolations(page)).to.deep.equal([]);

    // Create a service client from its preset; the secret is shown once.
    await page.selectOption('#new-preset', 'service');
    await page.fill('#new-name', 'Nightly reports');
    await page.getByRole('button', { name: 'Create client' }).click();
    const secretBox = page.getByTestId('client-secret');
    await secretBox.waitFor();
    await screenshot(page, 'console-client-secret');
    const clientId = (await secretBox.getAttribute('data-client-id'))!;
    const secret = (await secretBox.textContent())!;
    expect(secret.length).to.be.greaterThan(20);
    expect(await tokenStatus(deploy.issuer, clientId, secret)).to.equal(200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByTestId('client-secret').waitFor({ state: 'detached' });

    // Its page: rotate the secret, the old one is refused.
    await page.getByRole('link', { name: clientId }).click();
    await page.getByRole('heading', { name: 'Client Nightly reports', level: 1 }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByTestId('client-secret').waitFor();
    const rotated = (await page.getByTestId('client-secret').textContent())!;
    expect(rotated).to.not.equal(secret);
    expect(await tokenStatus(deploy.issuer, clientId, secret)).to.equal(401);
    expect(await tokenStatus(deploy.issuer, clientId, rotated)).to.equal(200);

    // Edit fields; a bad URI is reported by field, a good one saved.
    await page.fill('#f-name', 'Nightly reports v2');
    await page.fill('#f-policy_uri', 'ftp://reports.example.com/privacy');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'policy_uri' }).waitFor();
    await page.fill('#f-policy_uri', 'https://reports.example.com/privacy');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Client Nightly reports v2', level: 1 }).waitFor();
    expect((await gatehouse.services.clients.get(clientId))!.metadata).to.include({ policy_uri: 'https://reports.example.com/privacy' });
    await screenshot(page, 'console-client');

    // Delete with confirmation.
    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.getByRole('button', { name: `Yes, delete ${clientId}` }).click();
    await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
    await page.waitForFunction((id) => !document.querySelector('table')?.textContent?.includes(id), clientId);
    expect(await gatehouse.services.clients.get(clientId)).to.equal(undefined);

    // The console's own client offers no delete.
    await page.getByRole('link', { name: CONSOLE_CLIENT_ID }).click();
    await page.getByText('it is built in and cannot be deleted').waitFor();
    expect(await page.getByRole('button', { name: 'Delete client' }).count()).to.equal(0);

    const audit = await gatehouse.services.audit.query({ clientId, limit: 20 });
    const types = audit.events.map((event) => event.type);
    expect(types).to.include.members(['client.created', 'client.secret_rotated', 'client.updated', 'client.deleted']);
    const created = audit.events.find((event) => event.type === 'client.created')!;
    expect(created.actor).to.include({ type: 'user', username: 'operator' });
    expect(created.client).to.equal(CONSOLE_CLIENT_ID);

    // Only its own assets, the token endpoint (sign-in) and the admin API.
    const origin = new URL(deploy.issuer).origin;
    const outside = calls.filter((url) => {
      const parsed = new URL(url);
      return parsed.origin !== origin || !(parsed.pathname.startsWith('/console/assets/') || parsed.pathname.startsWith('/admin/api/v1/') || parsed.pathname === '/token');
    });
    expect(outside).to.deep.equal([]);
    expect(calls.some((url) => url.includes('/admin/api/v1/clients'))).to.equal(true);

    // Sign out ends the session at the provider and comes back to the console's sign-in.
    await page.getByRole('button', { name: 'Sign out' }).click();
    const confirm = page.locator('button[type="submit"], input[type="submit"]').first();
    await Promise.race([confirm.waitFor(), page.waitForURL(consoleUrl)]);
    if (!page.url().startsWith(consoleUrl)) await confirm.click();
    await page.getByRole('heading', { name: 'Sign in to the Gatehouse console' }).waitFor();
    expect(await seriousViolations(page)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it('a signed-in user without the admin role sees a clear no-access page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    current = page;
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signInOnHostedPage(page, 'visitor');
    await page.getByRole('heading', { name: 'No access' }).waitFor();
    expect(await page.getByTestId('no-access').textContent()).to.include('lacks the admin role');
    expect(await seriousViolations(page)).to.deep.equal([]);
    await screenshot(page, 'console-no-access');
    await context.close();
  });
});
