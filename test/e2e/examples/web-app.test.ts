import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../../src/server.ts';
import { webApp } from '../../../examples/web-app/app.ts';
import { AUDIT_COLLECTION } from '../../../src/observability/audit-trail.ts';
import { connectMongo } from '../../../src/storage/mongo.ts';
import { deployment, PASSWORD, type Deployment } from '../../helpers/e2e.ts';
import { killChild, runCli } from '../../helpers/process.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { within } from '../../helpers/poll.ts';
import { launchChromium, screenshot } from '../browser.ts';

const MAIN = fileURLToPath(new URL('../../../examples/web-app/main.ts', import.meta.url));

describe('examples/web-app: code + PKCE with openid-client, userinfo, refresh, RP-initiated logout (Chromium)', function () {
  // The setup runs the gatehouse CLI (a fresh Node process per command: seconds each on busy cores).
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let server: Server;
  let appUrl: string;
  let client: { clientId: string; secret: string };
  let clock = Date.now();
  /** Where the README command's process listens (registered with the client too). */
  let childPort: number;
  const username = 'wa-alice';

  async function signInOnGatehouse(page: Page): Promise<void> {
    await page.waitForSelector('input[name="username"]');
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
  }

  before(async () => {
    deploy = await deployment('example_webapp');
    gatehouse = await deploy.start();
    await gatehouse.services.accounts.createUser({ username, password: PASSWORD, name: 'Alice Example', email: 'alice@example.org', emailVerified: true });
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    childPort = await freePort();
    // The README's setup, with the real CLI.
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl ?? '', GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const result = await runCli(
      [
        ...['clients', 'create', '--name', 'Example web app'],
        ...['--redirect-uri', `${appUrl}/callback`, '--redirect-uri', `http://127.0.0.1:${childPort}/callback`],
        ...['--post-logout-redirect-uri', `${appUrl}/signed-out`, '--post-logout-redirect-uri', `http://127.0.0.1:${childPort}/signed-out`],
        ...['--grant-type', 'authorization_code', '--grant-type', 'refresh_token', '--json'],
      ],
      env,
    );
    expect(result.code, result.stderr).to.equal(0);
    const created = JSON.parse(result.stdout) as { client_id: string; client_secret: string };
    client = { clientId: created.client_id, secret: created.client_secret };
    server = webApp({ issuer: deploy.issuer, clientId: client.clientId, clientSecret: client.secret, baseUrl: appUrl, now: () => clock, allowInsecureHttp: true }).listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await gatehouse.close();
    await deploy.drop();
  });

  it('signs in through the hosted page, shows userinfo, refreshes the expired token, and signs out of Gatehouse too', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${appUrl}/`);
      await page.click('#sign-in');
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      const authorize = new URL(page.url());
      expect(authorize.origin).to.equal(deploy.issuer);
      await signInOnGatehouse(page);
      // A third-party app: Gatehouse asks for consent once.
      await page.waitForURL((url) => url.href.startsWith(`${appUrl}/`) || url.pathname.includes('/interaction/'));
      if (page.url().includes('/interaction/')) {
        await screenshot(page, 'web-app-consent');
        await page.click('button[type="submit"]');
      }
      await page.waitForURL(`${appUrl}/`);
      expect(await page.textContent('#who')).to.equal('Signed in as Alice Example');
      await screenshot(page, 'web-app-signed-in');
      const cookies = await context.cookies(appUrl);
      const session = cookies.find((cookie) => cookie.name === 'webapp_session')!;
      expect(session).to.include({ httpOnly: true, sameSite: 'Lax' });

      await page.click('#profile');
      expect(await page.textContent('#email')).to.equal('alice@example.org');
      expect(await page.textContent('#username')).to.equal(username);
      const firstExpiry = Date.parse((await page.textContent('#expires'))!);

      // The app's clock passes the access token's expiry: the next page refreshes it first.
      clock = firstExpiry + 1000;
      await page.goto(`${appUrl}/profile`);
      expect(await page.textContent('#email')).to.equal('alice@example.org');
      expect(Date.parse((await page.textContent('#expires'))!)).to.be.greaterThan(firstExpiry);

      await page.goto(`${appUrl}/`);
      await page.click('#sign-out');
      // The app sends its ID token as id_token_hint: Gatehouse signs out at once (its page submits
      // itself), as Keycloak does. Were the hint missing or stale, it would ask; then confirm.
      const outcome = await Promise.race([
        page.waitForURL(`${appUrl}/signed-out`).then(() => 'signed-out' as const, () => 'timeout' as const),
        page.waitForSelector('button[name="logout"][value="yes"]').then(() => 'asked' as const, () => 'timeout' as const),
      ]);
      if (outcome === 'asked') {
        await screenshot(page, 'web-app-logout-confirm');
        await page.click('button[name="logout"][value="yes"]');
        await page.waitForURL(`${appUrl}/signed-out`);
      }
      expect(page.url().startsWith(`${appUrl}/signed-out`), outcome).to.equal(true);
      expect(await page.textContent('#signed-out')).to.equal('You are signed out.');
      // The app revoked its refresh token on the way out: Gatehouse ended the grant.
      await gatehouse.audit.flush();
      const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
      try {
        const revoked = await mongo.collection(AUDIT_COLLECTION).findOne({ type: 'grant.revoked', 'actor.id': client.clientId, 'details.route': 'revocation' });
        expect(revoked, 'grant.revoked by the app at /token/revocation').to.not.equal(null);
      } finally {
        await mongo.close();
      }

      // Both sessions are gone: the app has none, and Gatehouse asks for the password again.
      await page.goto(`${appUrl}/profile`);
      await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
      expect(await page.locator('input[name="password"]').count()).to.equal(1);
    } finally {
      await context.close();
    }
  });

  it('refuses a callback it did not start, and one whose state does not match', async () => {
    const stray = await fetch(`${appUrl}/callback?code=abc&state=xyz`);
    expect(stray.status).to.equal(400);
    expect(await stray.text()).to.contain('This sign-in expired or was started elsewhere');

    const start = await fetch(`${appUrl}/login`, { redirect: 'manual' });
    expect(start.status).to.equal(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorize.searchParams.get('code_challenge')).to.match(/^[\w-]{43}$/);
    const pending = start.headers.getSetCookie().find((line) => line.startsWith('webapp_auth='))!.split(';')[0]!;
    const forged = await fetch(`${appUrl}/callback?code=abc&state=not-the-state`, { headers: { cookie: pending } });
    expect(forged.status).to.equal(400);
    expect(await forged.text()).to.contain('Sign-in failed');
  });

  it('sends visitors without a session to sign in', async () => {
    const profile = await fetch(`${appUrl}/profile`, { redirect: 'manual' });
    expect(profile.status).to.equal(302);
    expect(profile.headers.get('location')).to.equal('/login');
  });

  it('runs with the README command (node examples/web-app/main.ts)', async () => {
    const port = childPort;
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, GATEHOUSE_ISSUER: deploy.issuer, CLIENT_ID: client.clientId, CLIENT_SECRET: client.secret, BASE_URL: `http://127.0.0.1:${port}`, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await within(20_000, async () => output.includes('web app listening on'));
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.contain('Sign in with the company account');
      const start = await fetch(`http://127.0.0.1:${port}/login`, { redirect: 'manual' });
      expect(start.status).to.equal(302);
      const authorize = new URL(start.headers.get('location')!);
      expect(authorize.origin).to.equal(deploy.issuer);
      expect(authorize.searchParams.get('redirect_uri')).to.equal(`http://127.0.0.1:${port}/callback`);
      // Gatehouse takes the request: on to its sign-in, not back to the app with an error.
      const accepted = await fetch(authorize, { redirect: 'manual' });
      expect(accepted.status).to.be.oneOf([302, 303]);
      expect(new URL(accepted.headers.get('location')!, deploy.issuer).pathname).to.match(/^\/interaction\//);
    } finally {
      await killChild(child);
    }
  });
});
