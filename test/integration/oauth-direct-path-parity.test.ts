import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { FAST_HASHING, seed, type Seeded } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

/** What is compared of two answers to the same request: everything but per-request values. */
const COMPARED_HEADERS = [
  'content-type',
  'www-authenticate',
  'allow',
  'retry-after',
  'cache-control',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-allow-credentials',
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'content-security-policy',
  'strict-transport-security',
] as const;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly requestId: string;
  readonly body: string;
}

/**
 * One raw HTTP request; `target` is the request line's target (a path, or an absolute URL).
 */
function send(port: number, method: string, target: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const picked: Record<string, string | undefined> = {};
        for (const name of COMPARED_HEADERS) {
          const value = res.headers[name];
          picked[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: picked, requestId: String(res.headers['x-request-id']), body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * The OAuth endpoints go from the HTTP server straight to the provider's Koa app, which runs the
 * edge and the gates itself (src/oidc/direct-front.ts); every other request passes Gatehouse's Koa
 * app. Whatever the app gave an OAuth request must be the same on the direct path: each request
 * here is sent both ways (the app's own callback on a second port) and the answers compared — status, error body, the security headers and
 * CSP, CORS, the challenge, the access log line and the metric — including the refusals (bad
 * client, NUL characters, a body too large, an unknown method) that the gates and the error
 * mapper answer.
 */
describe('OAuth endpoints: the direct path answers as the app path did', function () {
  this.timeout(90_000);
  let gatehouse: RunningGatehouse;
  let mongodbUri: string;
  let port: number;
  let cast: Seeded;
  /** Gatehouse's Koa app alone on a port of its own: every request through the app, as every OAuth request went before the direct path. */
  let appOnly: Server;
  let appPort: number;
  const logs = captureLogs('info');

  before(async function () {
    port = await freePort();
    mongodbUri = emptyDatabaseUri('oauth_parity');
    gatehouse = await startInstance({
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      // https: HSTS and Secure cookies are part of what the edge gives.
      issuer: `https://127.0.0.1:${port}`,
      logger: logs.logger,
      settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_TRUST_PROXY: 'true', GATEHOUSE_REDIS_PREFIX: `gh-parity-${port}:` },
    });
    cast = await seed(gatehouse);
    appOnly = createServer(gatehouse.app.callback());
    await new Promise<void>((resolve) => appOnly.listen(0, '127.0.0.1', resolve));
    appPort = (appOnly.address() as AddressInfo).port;
  });

  after(async function () {
    await new Promise((resolve) => appOnly?.close(resolve));
    await gatehouse?.close();
    await recycleDatabase(mongodbUri);
  });

  const logLine = (requestId: string) => logs.requestLine(requestId);

  /** The body without what differs per request (tokens, the client id in a message). */
  // Each request has its own id (an error body names it: request_id).
  const comparable = (body: string) =>
    body.replace(/"(access_token|id_token|refresh_token|request_id)":"[^"]+"/g, '"$1":"…"').replace(/"expires_in":\d+/, '"expires_in":…');

  it('token, introspection, revocation, userinfo, JWKS and discovery: same answers and log lines both ways, no secret logged', async function () {
    const basic = clientSecretBasic(cast.service.clientId, cast.service.secret);
    const wrong = clientSecretBasic(cast.service.clientId, 'wrong-secret-value');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const origin = { origin: 'https://spa.example.com' };
    const cases: Array<{ name: string; method: string; path: string; headers: Record<string, string>; body?: string }> = [
      { name: 'client_credentials', method: 'POST', path: '/token', headers: { ...form, authorization: basic }, body: 'grant_type=client_credentials' },
      { name: 'wrong secret, browser Accept', method: 'POST', path: '/token', headers: { ...form, ...browser, authorization: wrong }, body: 'grant_type=client_credentials' },
      { name: 'secret in the body and the query', method: 'POST', path: '/token?code=query-secret-value', headers: { ...form }, body: `grant_type=client_credentials&client_id=${cast.service.clientId}&client_secret=body-secret-value` },
      { name: 'NUL in client_id', method: 'POST', path: '/token', headers: { ...form, ...browser }, body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x' },
      { name: 'body too large', method: 'POST', path: '/token', headers: { ...form, authorization: basic }, body: `grant_type=client_credentials&x=${'a'.repeat(300_000)}` },
      { name: 'JSON body', method: 'POST', path: '/token', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"grant_type":"client_credentials"}' },
      { name: 'unknown method', method: 'PUT', path: '/token', headers: {} },
      { name: 'CORS preflight at token', method: 'OPTIONS', path: '/token', headers: { ...origin, 'access-control-request-method': 'POST' } },
      { name: 'NUL token at introspection', method: 'POST', path: '/token/introspection', headers: { ...form, authorization: basic }, body: 'token=a%00b' },
      { name: 'introspection without client', method: 'POST', path: '/token/introspection', headers: { ...form, ...browser }, body: 'token=x' },
      { name: 'revocation', method: 'POST', path: '/token/revocation', headers: { ...form, authorization: basic }, body: 'token=not-a-token' },
      { name: 'userinfo without token, browser Accept', method: 'GET', path: '/me', headers: { ...browser } },
      { name: 'userinfo bad token, cross-origin', method: 'GET', path: '/me', headers: { ...origin, authorization: 'Bearer not-a-token' } },
      { name: 'userinfo preflight', method: 'OPTIONS', path: '/me', headers: { ...origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } },
      { name: 'JWKS HEAD', method: 'HEAD', path: '/jwks', headers: {} },
      { name: 'JWKS cross-origin', method: 'GET', path: '/jwks', headers: { ...origin } },
      { name: 'discovery, forged Host and forwarded headers', method: 'GET', path: '/.well-known/openid-configuration', headers: { ...origin, host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } },
    ];
    for (const { name, method, path, headers, body } of cases) {
      const viaApp = await send(appPort, method, path, headers, body);
      const direct = await send(port, method, path, headers, body);
      expect(direct.status, `${name}: status`).to.equal(viaApp.status);
      expect(direct.status, `${name}: never a 500`).to.be.below(500);
      expect(direct.headers, `${name}: headers`).to.deep.equal(viaApp.headers);
      expect(comparable(direct.body), `${name}: body`).to.equal(comparable(viaApp.body));
      expect(direct.headers['x-frame-options'], `${name}: the edge's headers`).to.equal('DENY');
      expect(direct.headers['strict-transport-security'], `${name}: HSTS on an https issuer`).to.match(/^max-age=/);
      const [appLine, directLine] = [await logLine(viaApp.requestId), await logLine(direct.requestId)];
      const logged = (line: Record<string, unknown>) => ({ method: line.method, route: line.route, path: line.path, status: line.status });
      expect(logged(directLine), `${name}: access log line`).to.deep.equal(logged(appLine));
    }
    const text = logs.text();
    for (const secret of ['query-secret-value', 'body-secret-value', 'wrong-secret-value', cast.service.secret]) expect(text, 'no secret in the logs').not.to.include(secret);
  });

  /**
   * An absolute-form request target (`GET http://evil.example/.well-known/openid-configuration`,
   * RFC 9112 §3.2.2; proxies send it, anyone can) carries a host of its own. Koa's `ctx.href` is
   * that URL itself, so the provider built its URLs from it: the discovery document named another
   * host's endpoints, around the issuer-only rule of src/oidc/mount.ts (a Host header cannot do it).
   */
  it('an absolute-form request target cannot put another host into the discovery document', async function () {
    const issuer = `https://127.0.0.1:${port}`;
    const targets = ['http://evil.example:8443/.well-known/openid-configuration', 'HTTP://evil.example/.well-known/openid-configuration?x=1'];
    // The HTTP server's listener, and Gatehouse's app by itself (the provider mount).
    for (const [target, to] of targets.flatMap((target) => [[target, port], [target, appPort]] as const)) {
      const answer = await send(to, 'GET', target, {});
      expect(answer.status, target).to.equal(200);
      const document = JSON.parse(answer.body) as Record<string, unknown>;
      expect(document.issuer, target).to.equal(issuer);
      for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint']) {
        expect(String(document[name]), `${target}: ${name}`).to.match(new RegExp(`^${issuer.replace(/[.]/g, '\\.')}/`));
      }
    }
  });
});
