import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { instanceForSuite, seed, type Seeded } from '../helpers/e2e.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const GENERATED_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * The OAuth endpoints skip the page routers (src/app.ts) and every request passes one edge
 * middleware (src/http/edge.ts) instead of six: what both used to give every response must still
 * be there on each endpoint — the request id, the security headers and CSP, the access log line
 * and the request metric by route name — and the paths that are not OAuth endpoints still reach
 * the pages in front of the provider.
 */
describe('OAuth endpoints on the short path: request id, headers, log line, metrics', function () {
  this.timeout(60_000);
  const logs = captureLogs('info');
  const edge = instanceForSuite('oauth_edge', { logger: logs.logger });
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;

  before(async function () {
    ({ gatehouse, deploy: { issuer } } = edge);
    cast = await seed(gatehouse);
  });

  const basic = () => clientSecretBasic(cast.service.clientId, cast.service.secret);
  const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(), ...headers }, body: new URLSearchParams(body).toString() });

  async function accessToken(): Promise<string> {
    const response = await form('/token', { grant_type: 'client_credentials' });
    expect(response.status).to.equal(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /**
   * The edge's headers: on the OAuth endpoints (JSON answers) the request id, nosniff, no framing
   * and a policy that loads nothing (src/http/security-headers.ts jsonEndpointHeaderList says what
   * each is for); on the pages also Referrer-Policy and the pages' CSP.
   */
  function expectEdgeHeaders(response: Response, label: string, kind: 'json' | 'page' = 'json'): string {
    const id = response.headers.get('x-request-id');
    expect(id, `${label}: X-Request-Id`).to.match(GENERATED_ID);
    expect(response.headers.get('x-content-type-options'), label).to.equal('nosniff');
    expect(response.headers.get('x-frame-options'), label).to.equal('DENY');
    if (kind === 'json') {
      expect(response.headers.get('content-security-policy'), `${label}: a JSON answer's policy`).to.equal("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get('referrer-policy'), `${label}: a JSON answer links nowhere`).to.equal(null);
    } else {
      expect(response.headers.get('referrer-policy'), label).to.equal('no-referrer');
      expect(response.headers.get('content-security-policy'), label).to.match(/^default-src 'none'; script-src 'self'; .*frame-ancestors 'none'/);
    }
    expect(response.headers.get('strict-transport-security'), `${label}: no HSTS on an http issuer`).to.equal(null);
    return id!;
  }

  const logLine = (requestId: string) => logs.requestLine(requestId);

  async function requestCount(route: string, method: string, status: number): Promise<number> {
    const metric = await gatehouse.metrics.registry.getSingleMetric('gatehouse_http_request_duration_seconds')!.get();
    const sample = metric.values.find(
      (value) => (value as { metricName?: string }).metricName === 'gatehouse_http_request_duration_seconds_count' && value.labels.route === route && value.labels.method === method && value.labels.status === String(status),
    );
    return sample?.value ?? 0;
  }

  it('token, introspection, revocation, userinfo, JWKS and discovery each answer with the edge headers, a log line and a metric by route name', async function () {
    const token = await accessToken();
    const calls: Array<{ route: string; method: string; status: number; send: () => Promise<Response> }> = [
      { route: 'token', method: 'POST', status: 200, send: () => form('/token', { grant_type: 'client_credentials' }) },
      { route: 'introspection', method: 'POST', status: 200, send: () => form('/token/introspection', { token }) },
      { route: 'userinfo', method: 'GET', status: 401, send: () => fetch(`${issuer}/me`, { headers: { authorization: 'Bearer not-a-token' } }) },
      { route: 'jwks', method: 'GET', status: 200, send: () => fetch(`${issuer}/jwks`) },
      { route: 'discovery', method: 'GET', status: 200, send: () => fetch(`${issuer}/.well-known/openid-configuration`) },
      { route: 'revocation', method: 'POST', status: 200, send: () => form('/token/revocation', { token }) },
    ];
    for (const call of calls) {
      const before = await requestCount(call.route, call.method, call.status);
      const response = await call.send();
      expect(response.status, call.route).to.equal(call.status);
      if (call.route === 'userinfo') {
        expect(response.headers.get('www-authenticate'), 'userinfo keeps its Bearer challenge').to.match(/^Bearer /);
        expect(await response.json()).to.include({ error: 'invalid_token' });
      } else {
        await response.arrayBuffer();
      }
      const id = expectEdgeHeaders(response, call.route);
      const line = await logLine(id);
      expect(line, call.route).to.include({ method: call.method, route: call.route, status: call.status });
      expect(line, `${call.route}: a known route is logged by name, not path`).not.to.have.property('path');
      expect(await requestCount(call.route, call.method, call.status), `${call.route}: counted`).to.equal(before + 1);
    }
  });

  it('echoes a sane X-Request-Id from the proxy on the short path and replaces an unusable one', async function () {
    const echoed = await form('/token', { grant_type: 'client_credentials' }, { 'x-request-id': 'edge-test-0001' });
    expect(echoed.headers.get('x-request-id')).to.equal('edge-test-0001');
    await echoed.arrayBuffer();
    expect(await logLine('edge-test-0001')).to.include({ route: 'token', status: 200 });
    const replaced = await fetch(`${issuer}/jwks`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).to.match(GENERATED_ID).and.not.equal('bad id with spaces');
    await replaced.arrayBuffer();
  });

  it('the OAuth endpoints are found case-insensitively and with a trailing slash, as the provider routes them', async function () {
    const response = await fetch(`${issuer}/JWKS/`);
    expect(response.status).to.equal(200);
    expectEdgeHeaders(response, '/JWKS/');
    expect(((await response.json()) as { keys: unknown[] }).keys).to.be.an('array').that.is.not.empty;
  });

  it('the gates in front of the provider still run on the short path: a refused client authentication is JSON with a challenge', async function () {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientSecretBasic(cast.service.clientId, 'wrong') },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).to.equal(401);
    expect(response.headers.get('www-authenticate')).to.match(/^Basic /);
    expect(await response.json()).to.include({ error: 'invalid_client' });
    expectEdgeHeaders(response, 'refused token request');
  });

  it("the OAuth endpoints make no context in Gatehouse's Koa app (the provider's is the only one); every other path does", async function () {
    const app = gatehouse.app;
    const made: string[] = [];
    const createContext = app.createContext.bind(app);
    app.createContext = ((req, res) => {
      made.push(req.url ?? '');
      return createContext(req, res);
    }) as typeof app.createContext;
    try {
      const token = await accessToken();
      for (const response of [
        await form('/token/introspection', { token }),
        await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${token}` } }),
        await fetch(`${issuer}/jwks`),
        await fetch(`${issuer}/.well-known/openid-configuration`),
        await form('/token/revocation', { token }),
      ]) {
        expectEdgeHeaders(response, new URL(response.url).pathname);
        await response.arrayBuffer();
      }
      expect(made, 'no context in our app for the OAuth endpoints').to.deep.equal([]);
      const health = await fetch(`${issuer}/healthz`);
      await health.arrayBuffer();
      const page = await fetch(`${issuer}/auth?client_id=nobody`, { redirect: 'manual', headers: { accept: BROWSER_ACCEPT } });
      await page.arrayBuffer();
      expect(made, 'health and the authorization endpoint still come through our app').to.deep.equal(['/healthz', '/auth?client_id=nobody']);
    } finally {
      app.createContext = createContext;
    }
  });

  it('paths that are not OAuth endpoints still reach the pages: health, the 404 page, the device endpoint page', async function () {
    const health = await fetch(`${issuer}/healthz`);
    expect(health.status).to.equal(200);
    expectEdgeHeaders(health, '/healthz', 'page');
    await health.arrayBuffer();

    const missing = await fetch(`${issuer}/no-such-page`, { headers: { accept: BROWSER_ACCEPT } });
    expect(missing.status).to.equal(404);
    expect(missing.headers.get('content-type')).to.match(/^text\/html/);
    const id = expectEdgeHeaders(missing, '404 page', 'page');
    await missing.text();
    // A path no route serves is logged with only the words of Gatehouse's own paths (test/integration/request-log-paths.test.ts).
    expect(await logLine(id)).to.include({ route: 'other', path: '/*', status: 404 });

    const device = await fetch(`${issuer}/device/auth?user_code=BCDF-GHJK`, { redirect: 'manual', headers: { accept: BROWSER_ACCEPT } });
    expect(device.status).to.equal(303);
    expect(new URL(device.headers.get('location')!).pathname).to.equal('/device');
    expectEdgeHeaders(device, 'device endpoint page', 'page');
  });
});

/**
 * The Keycloak layout mounts the provider below the root (`/realms/<name>`): on the direct path
 * the gates see the request's own path and the provider its local one, as through the app.
 */
describe('OAuth endpoints on the short path below the root (Keycloak layout)', function () {
  this.timeout(60_000);
  const logs = captureLogs('info');
  const mounted = instanceForSuite('oauth_edge_kc', { logger: logs.logger, settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme' } });
  let issuer: string;
  let cast: Seeded;
  const endpoint = (name: string) => `${issuer}/protocol/openid-connect/${name}`;

  before(async function () {
    issuer = `${mounted.deploy.issuer}/realms/acme`;
    cast = await seed(mounted.gatehouse);
  });

  const basic = () => clientSecretBasic(cast.service.clientId, cast.service.secret);

  it('discovery names the mounted endpoints; a token is issued and introspected there; a wrong secret is refused as JSON', async function () {
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).to.equal(200);
    expect(discovery.headers.get('x-request-id')).to.match(GENERATED_ID);
    const document = (await discovery.json()) as { issuer: string; token_endpoint: string; userinfo_endpoint: string };
    expect(document.issuer).to.equal(issuer);
    expect(document.token_endpoint).to.equal(endpoint('token'));
    expect(document.userinfo_endpoint).to.equal(endpoint('userinfo'));

    const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() };
    const issued = await fetch(endpoint('token'), { method: 'POST', headers, body: 'grant_type=client_credentials' });
    expect(issued.status).to.equal(200);
    expect(issued.headers.get('content-security-policy')).to.match(/^default-src 'none'/);
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const introspected = await fetch(endpoint('token/introspect'), { method: 'POST', headers, body: new URLSearchParams({ token }).toString() });
    expect(introspected.status).to.equal(200);
    expect(await introspected.json()).to.include({ active: true, client_id: cast.service.clientId });

    const refused = await fetch(endpoint('token'), {
      method: 'POST',
      headers: { ...headers, authorization: clientSecretBasic(cast.service.clientId, 'wrong') },
      body: 'grant_type=client_credentials',
    });
    expect(refused.status).to.equal(401);
    expect(await refused.json()).to.include({ error: 'invalid_client' });
  });

  it('a request no provider route serves is logged with its own path, not the provider-local one', async function () {
    const response = await fetch(endpoint('token'), { method: 'PUT', headers: { accept: 'application/json' } });
    const id = response.headers.get('x-request-id')!;
    await response.arrayBuffer();
    expect(await logs.requestLine(id)).to.include({ route: 'other', method: 'PUT', path: '/realms/acme/protocol/openid-connect/token', status: response.status });
  });
});

