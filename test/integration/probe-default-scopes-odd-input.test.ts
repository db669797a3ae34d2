import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { deployment, PASSWORD, REDIRECT_URI, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): the endpoints where a client's default scopes are added to what a request asks
 * for (pushed authorization, authorization, device authorization, the password grant) and the token
 * exchange's claim-scope split, given odd `scope` values by a client: repeated and padded words,
 * tabs, 20,000 characters, 4,000 words, names of Object.prototype members, non-ASCII, a lone
 * surrogate. Each answer is a protocol one (an OAuth JSON error, or the flow going on): never a
 * 500, never a stack trace.
 */
describe('probe: odd scope values where default scopes are added', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let clientId: string;
  let secret: string;
  const ODD_SCOPES = [
    'department department',
    '  openid   department  ',
    'openid\tdepartment',
    'a'.repeat(20_000),
    `openid ${'department '.repeat(4_000)}`,
    '__proto__',
    'constructor toString hasOwnProperty',
    'openid départment',
    'openid \uD800',
    'openid offline_access offline_access',
    'admin',
    '',
  ];

  before(async () => {
    deploy = await deployment('probe_oddscopes');
    gatehouse = await deploy.start();
    const token = await (await adminClient(gatehouse)).token();
    const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
    expect((await call('POST', '/claim-scopes', { name: 'department', mappers: [{ type: 'user_attribute', attribute: 'department', claim: 'department' }] })).status).to.equal(201);
    expect((await call('POST', '/users', { username: 'oddie', password: PASSWORD, attributes: { department: 'eng' } })).status).to.equal(201);
    const client = await call('POST', '/clients', {
      name: 'Odd scopes app',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid offline_access profile department',
      default_scopes: ['department', 'profile'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      first_party: true,
      allow_password_grant: true,
    });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    clientId = client.body.client_id as string;
    secret = client.body.client_secret as string;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function post(path: string, params: Record<string, string>) {
    const response = await fetch(`${gatehouse.url}${path}`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, text: await response.text() };
  }

  function protocolAnswer(where: string, answer: { status: number; text: string }) {
    expect(answer.status, `${where}: ${answer.text.slice(0, 300)}`).to.be.below(500);
    expect(answer.text, where).not.to.match(/\bat [\w.<>]+ \(|file:\/\/|node:internal/);
    if (answer.status >= 400) expect((JSON.parse(answer.text) as { error?: unknown }).error, where).to.be.a('string');
  }

  it('pushed authorization, device authorization and the password grant answer each odd scope with a protocol answer', async () => {
    const pkce = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
    for (const scope of ODD_SCOPES) {
      const label = JSON.stringify(scope.length > 40 ? `${scope.slice(0, 40)}…(${scope.length})` : scope);
      protocolAnswer(`PAR ${label}`, await post('/request', { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope, ...pkce }));
      protocolAnswer(`device ${label}`, await post('/device/auth', { client_id: clientId, scope }));
      protocolAnswer(`password ${label}`, await post('/token', { grant_type: 'password', username: 'oddie', password: PASSWORD, scope }));
    }
  });

  it('the authorization endpoint answers each odd scope with a redirect or a page, never a 500', async () => {
    for (const scope of ODD_SCOPES) {
      const url = new URL('/auth', gatehouse.url);
      url.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' }).toString();
      const response = await fetch(url, { redirect: 'manual' });
      const text = await response.text();
      expect(response.status, `${JSON.stringify(scope.slice(0, 40))}: ${text.slice(0, 300)}`).to.be.below(500);
      expect(text).not.to.match(/\bat [\w.<>]+ \(|file:\/\/|node:internal/);
    }
  });

  it('a password-grant token with the defaults (the control): department and profile added to its scope', async () => {
    const answer = await post('/token', { grant_type: 'password', username: 'oddie', password: PASSWORD, scope: 'openid' });
    expect(answer.status, answer.text).to.equal(200);
    expect((JSON.parse(answer.text) as { scope: string }).scope.split(' ')).to.have.members(['openid', 'department', 'profile']);
  });
});
