import { connect } from 'node:net';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { formsOf, UserAgent } from '../helpers/browserless.ts';
import { instanceForSuite, REDIRECT_URI, seed, type Seeded } from '../helpers/e2e.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

/** What Java's HttpURLConnection (JDK 17, used by Nimbus) sends when the caller sets no Accept header. */
const JAVA_ACCEPT = 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { accept: JAVA_ACCEPT, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

async function expectJsonError(response: Response, status: number, error: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect(response.status, text).to.equal(status);
  expect(response.headers.get('content-type'), text).to.match(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body.error).to.equal(error);
  return body;
}

describe('error surfaces: API endpoints answer JSON, browser endpoints pages, nothing answers 500', () => {
  const logs = captureLogs('info');
  const surfaces = instanceForSuite('error_surfaces', { logger: logs.logger, settings: { GATEHOUSE_REGISTRATION: 'true' } });
  let gatehouse: RunningGatehouse;
  let issuer: string;
  let cast: Seeded;

  before(async () => {
    ({ gatehouse, deploy: { issuer } } = surfaces);
    cast = await seed(gatehouse);
  });

  describe('with the Accept header of Java HttpURLConnection', () => {
    it('token: invalid_client is JSON with a Basic challenge (RFC 6749 §5.2)', async () => {
      const response = await post(`${issuer}/token`, { grant_type: 'client_credentials' }, { authorization: clientSecretBasic(cast.service.clientId, 'wrong') });
      await expectJsonError(response, 401, 'invalid_client');
      expect(response.headers.get('www-authenticate')).to.match(/^Basic /);
    });

    it('token: invalid_grant is JSON', async () => {
      const response = await post(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: 'nope' }, { authorization: clientSecretBasic(cast.web.clientId, cast.web.secret) });
      await expectJsonError(response, 400, 'invalid_grant');
    });

    it('introspection and revocation: invalid_client is JSON', async () => {
      for (const path of ['/token/introspection', '/token/revocation']) {
        const response = await post(`${issuer}${path}`, { token: 'x' }, { authorization: clientSecretBasic(cast.service.clientId, 'wrong') });
        await expectJsonError(response, 401, 'invalid_client');
      }
    });

    it('userinfo: invalid_token is JSON with a Bearer challenge (RFC 6750 §3)', async () => {
      const response = await fetch(`${issuer}/me`, { headers: { accept: JAVA_ACCEPT, authorization: 'Bearer not-a-token' } });
      await expectJsonError(response, 401, 'invalid_token');
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer /).and.include('error="invalid_token"');
    });

    it('device authorization and PAR: invalid_client is JSON', async () => {
      for (const path of ['/device/auth', '/request']) {
        const response = await post(`${issuer}${path}`, { client_id: cast.web.clientId, scope: 'openid' }, { authorization: clientSecretBasic(cast.web.clientId, 'wrong') });
        await expectJsonError(response, 401, 'invalid_client');
      }
    });

    it('registration: a missing initial access token is JSON', async () => {
      const response = await fetch(`${issuer}/reg`, {
        method: 'POST',
        headers: { accept: JAVA_ACCEPT, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
      });
      const text = await response.text();
      expect(response.status, text).to.be.within(400, 499);
      expect(response.headers.get('content-type'), text).to.match(/^application\/json/);
    });

    it('the authorization endpoint still renders a page for browsers', async () => {
      const response = await fetch(`${issuer}/auth?client_id=unknown&response_type=code&scope=openid`, { headers: { accept: BROWSER_ACCEPT } });
      expect(response.status).to.equal(400);
      expect(response.headers.get('content-type')).to.match(/^text\/html/);
    });
  });

  describe('no 500s', () => {
    it('POST /device without a session cookie starts over with a fresh form, not a plain-text 500', async () => {
      const response = await post(`${issuer}/device`, { user_code: 'BCDF-GHJK', xsrf: 'forged' }, { accept: BROWSER_ACCEPT });
      const text = await response.text();
      expect(response.status, text).to.equal(303);
      expect(new URL(response.headers.get('location')!).pathname).to.equal('/device');
      expect(response.headers.get('x-request-id')).to.be.a('string');
      const form = await fetch(response.headers.get('location')!, { headers: { accept: BROWSER_ACCEPT } });
      expect(form.status).to.equal(200);
      expect(await form.text()).to.contain('name="user_code"');
    });

    it('answers malformed HTTP with 400 and logs it at warn, not error', async () => {
      const { port } = new URL(issuer);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write('GARBAGE / HTTP/1.1\r\n\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).to.match(/^HTTP\/1\.1 400/);
      const line = logs.lines().find((entry) => entry.msg === 'malformed HTTP request');
      expect(line, logs.text()).to.include({ level: 'warn', parseError: 'HPE_INVALID_METHOD' });
    });

    // PostgreSQL's jsonb holds no NUL character: FerretDB on it fails any command carrying one
    // ("unsupported Unicode escape sequence"). No identifier Gatehouse stores can contain one.
    describe('a NUL character in a parameter is refused as invalid_request', () => {
      const NUL = '\u0000';

      it('at the token, introspection, revocation and device authorization endpoints (JSON)', async () => {
        const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
          ['/token', { grant_type: 'client_credentials', client_id: `${cast.service.clientId}${NUL}`, client_secret: 'x' }, {}],
          ['/token', { grant_type: 'refresh_token', refresh_token: `abc${NUL}` }, { authorization: clientSecretBasic(cast.web.clientId, cast.web.secret) }],
          ['/token/introspection', { token: `abc${NUL}` }, { authorization: clientSecretBasic(cast.web.clientId, cast.web.secret) }],
          ['/token/revocation', { token: `abc${NUL}` }, { authorization: clientSecretBasic(cast.web.clientId, cast.web.secret) }],
          ['/device/auth', { client_id: `${cast.spa.clientId}${NUL}`, scope: 'openid' }, {}],
        ];
        for (const [path, form, headers] of cases) {
          const response = await post(`${issuer}${path}`, form, headers);
          const text = await response.text();
          // FerretDB on SQLite can look such a token up (and finds none): introspection then
          // answers as for any unknown token (RFC 7662 §2.2) and revocation as for one already
          // gone (RFC 7009 §2.2) — both right; on PostgreSQL the store refuses the lookup first.
          if (response.status === 200 && path === '/token/introspection') {
            expect(JSON.parse(text), text).to.deep.equal({ active: false });
            continue;
          }
          if (response.status === 200 && path === '/token/revocation') {
            expect(text, text).to.equal('');
            continue;
          }
          expect(response.status, `${path} ${JSON.stringify(form)}: ${text}`).to.be.within(400, 499);
          expect(response.headers.get('content-type'), text).to.match(/^application\/json/);
          expect((JSON.parse(text) as { error: string }).error, text).to.be.oneOf(['invalid_request', 'invalid_client', 'invalid_grant']);
        }
      });

      it('at the authorization and end-session endpoints (a page)', async () => {
        for (const path of [`/auth?client_id=${cast.web.clientId}%00&response_type=code&scope=openid`, `/session/end?client_id=${cast.web.clientId}%00`]) {
          const response = await fetch(`${issuer}${path}`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
          const text = await response.text();
          expect(response.status, `${path}: ${text.slice(0, 300)}`).to.equal(400);
          expect(response.headers.get('content-type')).to.match(/^text\/html/);
        }
      });

      it('as the login on the sign-in page (the same answer as a login that names nobody)', async () => {
        const agent = new UserAgent();
        const params = new URLSearchParams({ client_id: cast.web.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
        const auth = await agent.request(`${issuer}/auth?${params}`, { headers: { accept: BROWSER_ACCEPT } });
        const pageUrl = new URL(auth.headers.get('location')!, issuer).toString();
        const answers: string[] = [];
        for (const login of [`${cast.user.username}${NUL}`, 'nobody-here']) {
          const page = await agent.request(pageUrl, { headers: { accept: BROWSER_ACCEPT } });
          const form = formsOf(await page.text()).find((candidate) => candidate.action.endsWith('/login'))!;
          const submitted = await agent.postForm(new URL(form.action, issuer).toString(), { ...form.fields, login, password: 'wrong password' });
          const html = await submitted.text();
          // The form shown again with the person's error: 400, as for every failed sign-in (dcba059).
          expect(submitted.status, html.slice(0, 300)).to.equal(400);
          answers.push(/role="alert"[^>]*>([^<]*)/.exec(html)?.[1] ?? html.slice(0, 300));
        }
        expect(answers[0]).to.equal(answers[1]);
      });
    });

    it('logged nothing at error level', () => {
      const errors = logs.lines().filter((line) => line.level === 'error' || line.level === 'fatal');
      expect(errors, JSON.stringify(errors)).to.deep.equal([]);
    });
  });
});

describe('hosted pages behind a TLS proxy that sends no X-Forwarded-Proto', () => {
  const proxied = instanceForSuite('error_tls_proxy', { issuer: 'https://sso.example.test', settings: { GATEHOUSE_TRUST_PROXY: 'true' } });
  let local: string;
  let cast: Seeded;

  before(async () => {
    local = proxied.gatehouse.url;
    cast = await seed(proxied.gatehouse);
  });

  it('serves the sign-in page with Secure cookies (the scheme comes from the issuer)', async () => {
    const params = new URLSearchParams({ client_id: cast.web.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.com/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const auth = await fetch(`${local}/auth?${params}`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
    expect(auth.status, await auth.text()).to.equal(303);
    const location = new URL(auth.headers.get('location')!, local);
    const cookies = auth.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
    const page = await fetch(`${local}${location.pathname}`, { headers: { accept: BROWSER_ACCEPT, cookie: cookies } });
    const html = await page.text();
    expect(page.status, html).to.equal(200);
    expect(page.headers.getSetCookie().every((cookie) => /;\s*secure/i.test(cookie))).to.equal(true);
  });
});
