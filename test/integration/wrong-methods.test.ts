import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { FAST_HASHING } from '../helpers/e2e.ts';
import { startInstance } from '../helpers/instance.ts';
import { freePort } from '../helpers/redis-server.ts';
import { dropDatabase, freshDatabaseUri, randomSecret, serviceUrls } from '../helpers/stores.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * A wrong HTTP method on an OAuth endpoint is the caller's mistake, answered like every other one
 * there: JSON `error` / `error_description` whatever the Accept header (405 with Allow), never the
 * plain-text "Not Found" Koa answers for a path no route serves. CORS preflights keep working.
 */
async function expectWrongMethod(response: Response, allow: string, label: string): Promise<void> {
  expect(response.status, label).to.equal(405);
  expect(response.headers.get('allow'), label).to.equal(allow);
  expect(response.headers.get('content-type'), label).to.match(/^application\/json/);
  expect(response.headers.get('cache-control'), label).to.equal('no-store');
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error, label).to.equal('invalid_request');
  expect(body.error_description, label).to.be.a('string').and.not.equal('');
}

describe('OAuth endpoints: a wrong HTTP method is answered as JSON (405 with Allow)', function () {
  this.timeout(60_000);
  let gatehouse: RunningGatehouse;
  let mongodbUri: string;
  let issuer: string;

  before(async function () {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    mongodbUri = freshDatabaseUri('wrong_methods');
    gatehouse = await startInstance({
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      issuer,
      settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_REGISTRATION: 'true', GATEHOUSE_REDIS_PREFIX: `gh-methods-${port}:` },
    });
  });

  after(async function () {
    await gatehouse?.close();
    await dropDatabase(mongodbUri);
  });

  const cases: ReadonlyArray<readonly [string, readonly string[], string]> = [
    ['/token', ['GET', 'PUT', 'DELETE', 'PATCH'], 'POST, OPTIONS'],
    ['/token/introspection', ['GET', 'PUT', 'DELETE'], 'POST, OPTIONS'],
    ['/token/revocation', ['GET', 'PUT', 'DELETE'], 'POST, OPTIONS'],
    // Pushed authorization requests (RFC 9126) and device authorization (RFC 8628 §3.1): POST, with CORS as the library has them.
    ['/request', ['GET', 'PUT', 'DELETE', 'PATCH'], 'POST, OPTIONS'],
    // A browser's GET of /device/auth goes to the code entry page (src/interactions/device-endpoint-page.ts).
    ['/device/auth', ['PUT', 'DELETE', 'PATCH'], 'GET, HEAD, POST, OPTIONS'],
    ['/reg', ['GET', 'PUT', 'DELETE'], 'POST'],
    ['/me', ['PUT', 'DELETE'], 'GET, HEAD, POST, OPTIONS'],
    ['/jwks', ['POST', 'PUT', 'DELETE'], 'GET, HEAD, OPTIONS'],
  ];

  for (const [path, methods, allow] of cases) {
    it(`${methods.join('/')} ${path}: 405 JSON with Allow: ${allow}, for a browser, a JSON client and a bare one`, async function () {
      for (const method of methods) {
        for (const accept of [BROWSER_ACCEPT, 'application/json', undefined]) {
          const headers: Record<string, string> = accept === undefined ? {} : { accept };
          await expectWrongMethod(await fetch(`${issuer}${path}`, { method, headers }), allow, `${method} ${path} (${accept ?? 'no Accept'})`);
        }
      }
    });
  }

  it('the same on a trailing slash and in another case, as the provider routes them', async function () {
    await expectWrongMethod(await fetch(`${issuer}/token/`, { method: 'GET' }), 'POST, OPTIONS', 'GET /token/');
    await expectWrongMethod(await fetch(`${issuer}/TOKEN`, { method: 'GET' }), 'POST, OPTIONS', 'GET /TOKEN');
  });

  it('HEAD on a POST-only endpoint is a 405 with Allow and no body', async function () {
    const response = await fetch(`${issuer}/token`, { method: 'HEAD' });
    expect(response.status).to.equal(405);
    expect(response.headers.get('allow')).to.equal('POST, OPTIONS');
    expect(await response.text()).to.equal('');
  });

  it('registration (RFC 7591/7592) is server to server, without CORS (as oidc-provider has it): OPTIONS and other wrong methods on /reg and /reg/{client_id} are 405 JSON with the Allow of each', async function () {
    for (const method of ['OPTIONS', 'PATCH', 'PUT']) await expectWrongMethod(await fetch(`${issuer}/reg`, { method }), 'POST', `${method} /reg`);
    // A browser's preflight gets no Access-Control-Allow-* header: the browser refuses the call.
    const preflight = await fetch(`${issuer}/reg`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    await expectWrongMethod(preflight, 'POST', 'preflight /reg');
    expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
    expect(preflight.headers.get('access-control-allow-methods')).to.equal(null);
    // The client configuration endpoint (RFC 7592): GET, PUT, DELETE with the registration access token.
    for (const method of ['OPTIONS', 'POST', 'PATCH']) {
      await expectWrongMethod(await fetch(`${issuer}/reg/some-client`, { method }), 'GET, HEAD, PUT, DELETE', `${method} /reg/some-client`);
      await expectWrongMethod(await fetch(`${issuer}/reg/some-client`, { method, headers: { accept: BROWSER_ACCEPT } }), 'GET, HEAD, PUT, DELETE', `${method} /reg/some-client (browser)`);
    }
    const read = await fetch(`${issuer}/reg/some-client`);
    expect(read.status).to.equal(401);
    expect(await read.json()).to.have.property('error');
    // Deeper paths are no endpoint: 404.
    const deeper = await fetch(`${issuer}/reg/some-client/more`, { method: 'POST', headers: { accept: 'application/json' } });
    expect(deeper.status).to.equal(404);
    await deeper.arrayBuffer();
  });

  it('CORS preflights still answer on the endpoints that allow CORS; OPTIONS on /reg is a 405', async function () {
    for (const path of ['/token', '/token/introspection', '/token/revocation', '/me', '/request', '/device/auth']) {
      const preflight = await fetch(`${issuer}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status, path).to.equal(204);
      expect(preflight.headers.get('access-control-allow-methods'), path).to.include('POST');
    }
    await expectWrongMethod(await fetch(`${issuer}/reg`, { method: 'OPTIONS' }), 'POST', 'OPTIONS /reg');
  });

  it('the allowed methods still reach the endpoints, and unknown paths stay 404', async function () {
    const userinfo = await fetch(`${issuer}/me`);
    expect(userinfo.status).to.equal(401);
    expect(await userinfo.json()).to.include({ error: 'invalid_token' });
    const token = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(token.status).to.equal(400);
    expect(await token.json()).to.have.property('error');
    const unknown = await fetch(`${issuer}/token/nothing-here`, { method: 'GET', headers: { accept: 'application/json' } });
    expect(unknown.status).to.equal(404);
    await unknown.arrayBuffer();
  });
});

describe('OAuth endpoints below the root (Keycloak layout): a wrong HTTP method is answered as JSON', function () {
  this.timeout(60_000);
  let gatehouse: RunningGatehouse;
  let mongodbUri: string;
  let base: string;

  before(async function () {
    const port = await freePort();
    mongodbUri = freshDatabaseUri('wrong_methods_kc');
    gatehouse = await startInstance({
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      issuer: `http://127.0.0.1:${port}`,
      settings: { ...FAST_HASHING, PORT: String(port), GATEHOUSE_KEYCLOAK_REALM: 'acme', GATEHOUSE_REGISTRATION: 'true', GATEHOUSE_REDIS_PREFIX: `gh-methods-kc-${port}:` },
    });
    base = `http://127.0.0.1:${port}/realms/acme/protocol/openid-connect`;
  });

  after(async function () {
    await gatehouse?.close();
    await dropDatabase(mongodbUri);
  });

  it('GET /token, PUT /token/introspect, DELETE /revoke, PUT /userinfo, GET /ext/par/request and DELETE /auth/device', async function () {
    await expectWrongMethod(await fetch(`${base}/token`, { headers: { accept: BROWSER_ACCEPT } }), 'POST, OPTIONS', 'GET token');
    await expectWrongMethod(await fetch(`${base}/token/introspect`, { method: 'PUT' }), 'POST, OPTIONS', 'PUT introspect');
    await expectWrongMethod(await fetch(`${base}/revoke`, { method: 'DELETE' }), 'POST, OPTIONS', 'DELETE revoke');
    await expectWrongMethod(await fetch(`${base}/userinfo`, { method: 'PUT' }), 'GET, HEAD, POST, OPTIONS', 'PUT userinfo');
    await expectWrongMethod(await fetch(`${base}/ext/par/request`, { headers: { accept: BROWSER_ACCEPT } }), 'POST, OPTIONS', 'GET par');
    await expectWrongMethod(await fetch(`${base}/auth/device`, { method: 'DELETE' }), 'GET, HEAD, POST, OPTIONS', 'DELETE device authorization');
  });

  it("OPTIONS on Keycloak's registration paths: 405 JSON with Allow (no CORS for registration)", async function () {
    const realm = base.replace('/protocol/openid-connect', '');
    await expectWrongMethod(await fetch(`${realm}/clients-registrations/openid-connect`, { method: 'OPTIONS' }), 'POST', 'OPTIONS registration');
    await expectWrongMethod(await fetch(`${realm}/clients-registrations/openid-connect/some-client`, { method: 'OPTIONS' }), 'GET, HEAD, PUT, DELETE', 'OPTIONS client configuration');
  });
});
