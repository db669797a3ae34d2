import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../../src/server.ts';
import { userOperations } from '../../../src/operations/users.ts';
import { AUDIT_COLLECTION } from '../../../src/observability/audit-trail.ts';
import { connectMongo } from '../../../src/storage/mongo.ts';
import { gateway, type GatewayOptions } from '../../../examples/gateway/app.ts';
import { resourceServer } from '../../../examples/resource-server/app.ts';
import { deployment, PASSWORD, relyingParty, type Deployment } from '../../helpers/e2e.ts';
import { killChild, runCli } from '../../helpers/process.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { within } from '../../helpers/poll.ts';

const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
const MAIN = fileURLToPath(new URL('../../../examples/gateway/main.ts', import.meta.url));

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** The billing service: checks its own token with the JWKS and says what it saw. */
function billingService(issuer: string, seen: string[]): Server {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  return createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    void jwtVerify(token, jwks, { issuer, audience: BILLING, typ: 'at+jwt' }).then(
      ({ payload }) => {
        seen.push(token);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, sub: payload.sub, aud: payload.aud, client_id: payload.client_id, scope: payload.scope }));
      },
      () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}'),
    );
  });
}

/** A browser's cookie jar, just enough for one host. */
class Jar {
  readonly cookies = new Map<string, string>();
  readonly raw: string[] = [];
  take(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      this.raw.push(line);
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const value = pair!.slice(at + 1);
      if (value === '') this.cookies.delete(pair!.slice(0, at));
      else this.cookies.set(pair!.slice(0, at), value);
    }
    return response;
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

describe('examples/gateway: password grant at the edge, forwarded and exchanged tokens (real Gatehouse)', function () {
  // The setup runs the gatehouse CLI (a fresh Node process per command: seconds each on busy cores).
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let gatewayClient: { clientId: string; secret: string };
  let ordersServer: Server;
  let billingServer: Server;
  let ordersUrl: string;
  let billingUrl: string;
  const billingSeen: string[] = [];
  let clock = Date.now();
  const servers: Server[] = [];
  /** A port nothing listens on: an upstream that is down. */
  let closedPort: number;

  async function startGateway(extra: Partial<GatewayOptions> = {}): Promise<string> {
    const app = gateway({
      issuer: deploy.issuer,
      clientId: gatewayClient.clientId,
      clientSecret: gatewayClient.secret,
      api: ORDERS,
      scope: 'read write',
      routes: [
        { path: '/orders', upstream: `${ordersUrl}/orders` },
        { path: '/invoices', upstream: `${billingUrl}/invoices`, exchangeFor: BILLING },
        { path: '/payroll', upstream: `${billingUrl}/payroll`, exchangeFor: 'https://payroll.example.com' },
        { path: '/down', upstream: `http://127.0.0.1:${closedPort}/down` },
      ],
      now: () => clock,
      allowInsecureHttp: true,
      ...extra,
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const basic = (username: string, password = PASSWORD) => ({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });

  /** Opens the sign-in page and posts the form, as a browser does. */
  async function browserSignIn(url: string, username: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<{ jar: Jar; response: Response }> {
    const jar = new Jar();
    const page = jar.take(await fetch(`${url}/login`, { headers }));
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const response = jar.take(
      await fetch(`${url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers, cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, username, password }),
      }),
    );
    return { jar, response };
  }

  before(async () => {
    deploy = await deployment('example_gw');
    closedPort = await freePort();
    gatehouse = await deploy.start();
    const { accounts } = gatehouse.services;
    await accounts.createUser({ username: 'gw-editor', password: PASSWORD, roles: ['editor'] });
    await accounts.createUser({ username: 'gw-viewer', password: PASSWORD });
    // The README's setup, with the real CLI.
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, REDIS_URL: deploy.redisUrl ?? '', GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const cli = async (args: string[]) => {
      const result = await runCli(args, env);
      expect(result.code, `gatehouse ${args.join(' ')}: ${result.stderr}`).to.equal(0);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    await cli(['apis', 'create', '--identifier', ORDERS, '--scope', 'read write', '--roles', '--json']);
    await cli(['apis', 'create', '--identifier', BILLING, '--scope', 'read write', '--json']);
    await cli(['apis', 'create', '--identifier', 'https://payroll.example.com', '--scope', 'read', '--json']);
    const created = await cli([
      ...['clients', 'create', '--name', 'Edge gateway', '--client-id', 'edge-gateway', '--first-party', '--allow-password-grant'],
      ...['--grant-type', 'refresh_token', '--api', ORDERS, '--api', BILLING],
      ...['--exchange-api', BILLING, '--exchange-trust', 'edge-gateway', '--json'],
    ]);
    gatewayClient = { clientId: String(created.client_id), secret: String(created.client_secret) };
    ordersServer = resourceServer({ issuer: deploy.issuer, audience: ORDERS, allowInsecureHttp: true }).listen(0, '127.0.0.1');
    await new Promise((resolve) => ordersServer.once('listening', resolve));
    ordersUrl = `http://127.0.0.1:${(ordersServer.address() as AddressInfo).port}`;
    billingServer = billingService(deploy.issuer, billingSeen);
    billingUrl = await listen(billingServer);
  });
  after(async () => {
    for (const server of [...servers, ordersServer, billingServer]) server?.close();
    await gatehouse.close();
    await deploy.drop();
  });

  describe('API clients', () => {
    let url: string;
    before(async () => {
      url = await startGateway();
    });

    it('HTTP Basic → password grant → the user token forwarded: the service enforces scopes and roles', async () => {
      const read = await fetch(`${url}/orders`, { headers: basic('gw-editor') });
      expect(read.status).to.equal(200);
      expect(await read.json()).to.have.property('for').that.is.a('string');
      expect((await fetch(`${url}/orders`, { method: 'POST', headers: basic('gw-editor') })).status).to.equal(201);
      const viewer = await fetch(`${url}/orders`, { method: 'POST', headers: basic('gw-viewer') });
      expect(viewer.status, 'the service refuses: no editor role').to.equal(403);
      expect(await viewer.json()).to.deep.equal({ error: 'insufficient_scope', error_description: 'the user lacks the role editor' });
    });

    it('refuses a wrong password, no credentials and a malformed Basic header with 401', async () => {
      const wrong = await fetch(`${url}/orders`, { headers: basic('gw-editor', 'wrong password!') });
      expect(wrong.status).to.equal(401);
      expect(wrong.headers.get('www-authenticate')).to.equal('Basic realm="gateway"');
      expect(await wrong.json()).to.deep.equal({ error: 'invalid_grant', error_description: 'invalid username or password' });
      expect((await fetch(`${url}/orders`)).status).to.equal(401);
      expect((await fetch(`${url}/orders`, { headers: { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` } })).status).to.equal(401);
    });

    it('answers 502 when the service behind a path is down', async () => {
      const down = await fetch(`${url}/down`, { headers: basic('gw-editor') });
      expect(down.status).to.equal(502);
      expect(await down.json()).to.deep.equal({ error: 'bad_gateway', error_description: 'the service behind this path did not answer' });
    });

    it('accepts a Gatehouse access token for its API (validated with the JWKS) and refuses others', async () => {
      const config = await relyingParty(deploy.issuer, gatewayClient.clientId, gatewayClient.secret);
      const tokens = await oidc.genericGrantRequest(config, 'password', { username: 'gw-editor', password: PASSWORD, scope: 'read', resource: ORDERS });
      expect((await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).to.equal(200);
      const altered = await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${tokens.access_token.slice(0, -4)}AAAA` } });
      expect(altered.status).to.equal(401);
      expect(await altered.json()).to.include({ error: 'invalid_token' });
      const billing = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN, resource: BILLING });
      expect((await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${billing.access_token}` } })).status, 'a token for another API').to.equal(401);
      const saved = clock;
      clock = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).exp + 1) * 1000;
      try {
        expect((await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 'expired').to.equal(401);
      } finally {
        clock = saved;
      }
    });

    it('calls the billing service on the user’s behalf with an exchanged token for its audience', async () => {
      const response = await fetch(`${url}/invoices/2026?open=1`, { headers: basic('gw-editor') });
      expect(response.status).to.equal(200);
      const seen = (await response.json()) as Record<string, unknown>;
      expect(seen).to.include({ path: '/invoices/2026?open=1', aud: BILLING, client_id: gatewayClient.clientId, scope: 'read write' });
      const editor = await gatehouse.services.accounts.findByLogin('gw-editor');
      expect(seen.sub).to.equal(editor!.id);
      // An API the client's token_exchange policy does not name.
      const refused = await fetch(`${url}/payroll`, { headers: basic('gw-editor') });
      expect(refused.status).to.equal(403);
      expect(await refused.json()).to.include({ error: 'invalid_target' });
    });
  });

  describe('browser sessions', () => {
    let url: string;
    before(async () => {
      url = await startGateway();
    });

    it('signs in with the form: an HttpOnly SameSite session cookie, no token in the browser', async () => {
      const { jar, response } = await browserSignIn(url, 'gw-editor');
      expect(response.status).to.equal(303);
      const session = jar.raw.find((line) => line.startsWith('gw_session='))!;
      expect(session).to.match(/httponly/i).and.match(/samesite=lax/i);
      expect(session).to.not.match(/secure/i);
      expect(jar.raw.join('\n')).to.not.match(/eyJ/);
      const me = await fetch(`${url}/session`, { headers: { cookie: jar.header() } });
      expect(me.status).to.equal(200);
      expect(await me.json()).to.have.keys('sub', 'accessTokenExpiresAt');
      expect((await fetch(`${url}/orders`, { method: 'POST', headers: { cookie: jar.header() } })).status).to.equal(201);
      const invoices = await fetch(`${url}/invoices`, { headers: { cookie: jar.header() } });
      expect(await invoices.json()).to.include({ aud: BILLING });
    });

    it('refuses a form post without the CSRF token, and shows wrong passwords on the form', async () => {
      const forged = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=gw-editor&password=x' });
      expect(forged.status).to.equal(403);
      const { response } = await browserSignIn(url, 'gw-editor', 'wrong password!');
      expect(response.status).to.equal(401);
      expect(await response.text()).to.contain('<p role="alert" id="error">invalid username or password</p>');
    });

    it('refreshes the access token transparently once it expires, once for concurrent requests', async () => {
      const user = await gatehouse.services.accounts.createUser({ username: 'gw-refresher', password: PASSWORD, roles: ['editor'] });
      const refreshes = async () => {
        await gatehouse.audit.flush();
        const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
        try {
          return await mongo.collection(AUDIT_COLLECTION).countDocuments({ type: 'token.refreshed', 'target.id': user.id });
        } finally {
          await mongo.close();
        }
      };
      const { jar } = await browserSignIn(url, 'gw-refresher');
      const cookie = { cookie: jar.header() };
      const first = (await (await fetch(`${url}/session`, { headers: cookie })).json()) as { accessTokenExpiresAt: string };
      const firstInvoices = billingSeen.length;
      await fetch(`${url}/invoices`, { headers: cookie });
      const exchangedBefore = billingSeen.at(-1);
      expect(billingSeen.length).to.equal(firstInvoices + 1);

      clock = Date.parse(first.accessTokenExpiresAt) + 1000;
      const answers = await Promise.all([fetch(`${url}/orders`, { headers: cookie }), fetch(`${url}/orders`, { headers: cookie }), fetch(`${url}/invoices`, { headers: cookie })]);
      expect(answers.map((answer) => answer.status)).to.deep.equal([200, 200, 200]);
      const second = (await (await fetch(`${url}/session`, { headers: cookie })).json()) as { accessTokenExpiresAt: string };
      expect(Date.parse(second.accessTokenExpiresAt)).to.be.greaterThan(Date.parse(first.accessTokenExpiresAt));
      expect(billingSeen.at(-1), 'exchanged again for the new token').to.not.equal(exchangedBefore);
      expect(await refreshes(), 'one refresh for three concurrent requests').to.equal(1);
      // One refresh: the rotated refresh token still works for the next one (no reuse detected).
      clock = Date.parse(second.accessTokenExpiresAt) + 1000;
      expect((await fetch(`${url}/orders`, { headers: cookie })).status).to.equal(200);
      expect(await refreshes()).to.equal(2);
    });

    it('logout revokes the refresh token: the grant ends at Gatehouse and the cookie stops working', async () => {
      const { jar } = await browserSignIn(url, 'gw-editor');
      const cookie = { cookie: jar.header() };
      await fetch(`${url}/invoices`, { headers: cookie });
      const exchanged = billingSeen.at(-1)!;
      const config = await relyingParty(deploy.issuer, gatewayClient.clientId, gatewayClient.secret);
      expect((await oidc.tokenIntrospection(config, exchanged)).active).to.equal(true);

      const out = jar.take(await fetch(`${url}/logout`, { method: 'POST', redirect: 'manual', headers: cookie }));
      expect(out.status).to.equal(303);
      expect(out.headers.get('location')).to.equal('/login');
      expect((await fetch(`${url}/orders`, { headers: cookie })).status).to.equal(401);
      expect((await oidc.tokenIntrospection(config, exchanged)).active, 'tokens of the revoked grant').to.equal(false);
    });

    it('ends the session when Gatehouse refuses the refresh (the user was disabled)', async () => {
      const user = await gatehouse.services.accounts.createUser({ username: 'gw-leaver', password: PASSWORD });
      const { jar } = await browserSignIn(url, 'gw-leaver');
      const cookie = { cookie: jar.header() };
      expect((await fetch(`${url}/orders`, { headers: cookie })).status).to.equal(200);
      await userOperations(gatehouse.services).disable({ actor: { type: 'cli', id: 'test' } }, user.id);
      const { accessTokenExpiresAt } = (await (await fetch(`${url}/session`, { headers: cookie })).json()) as { accessTokenExpiresAt: string };
      clock = Date.parse(accessTokenExpiresAt) + 1000;
      const refused = await fetch(`${url}/orders`, { headers: cookie });
      expect(refused.status).to.equal(401);
      expect(await refused.json()).to.include({ error: 'session_expired' });
      expect((await fetch(`${url}/session`, { headers: cookie })).status).to.equal(401);
    });

    it('behind a TLS proxy the session cookie is Secure', async () => {
      const secureUrl = await startGateway({ secureCookies: true, trustProxy: true });
      const { jar, response } = await browserSignIn(secureUrl, 'gw-editor', PASSWORD, { 'x-forwarded-proto': 'https' });
      expect(response.status).to.equal(303);
      expect(jar.raw.find((line) => line.startsWith('gw_session='))).to.match(/;\s*secure/i);
    });
  });

  it('runs with the README command (node examples/gateway/main.ts)', async () => {
    const port = await freePort();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          GATEHOUSE_ISSUER: deploy.issuer,
          CLIENT_ID: gatewayClient.clientId,
          CLIENT_SECRET: gatewayClient.secret,
          API: ORDERS,
          SCOPE: 'read write',
          ROUTES: JSON.stringify([{ path: '/orders', upstream: `${ordersUrl}/orders` }, { path: '/invoices', upstream: `${billingUrl}/invoices`, exchangeFor: BILLING }]),
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await within(20_000, async () => output.includes('gateway listening on'));
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/orders`, { headers: basic('gw-editor') })).status).to.equal(200);
      expect(await (await fetch(`${url}/invoices`, { headers: basic('gw-editor') })).json()).to.include({ aud: BILLING });
    } finally {
      await killChild(child);
    }
  });
});

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
