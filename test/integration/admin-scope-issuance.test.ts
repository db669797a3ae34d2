import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { browse, signIn, UserAgent } from '../helpers/browserless.ts';
import { basicAuthTokenRequest, deployment, PASSWORD, type Deployment } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const REDIRECT = 'https://console.example.com/cb';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * The admin API's `admin` scope is for users who hold the `admin` role: a user without it gets
 * no `admin` scope at issuance (silently left out, as Keycloak does with role-mapped client
 * scopes and Auth0 with RBAC permissions), on every grant a user's token comes from: code,
 * refresh (the role is read again), password and device. An admin keeps getting it.
 */
describe('admin scope at issuance: only for users with the admin role (real stores)', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let operator: string;
  let client: { client_id: string; client_secret: string };
  let audience: string;

  before(async () => {
    deploy = await deployment('admin_scope');
    gatehouse = await deploy.start();
    audience = gatehouse.services.adminAudience;
    operator = await (await adminClient(gatehouse)).token();
    const created = await callAdmin(gatehouse.url, operator, 'POST', '/clients', {
      name: 'ops tool',
      admin: true,
      first_party: true,
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      allow_password_grant: true,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    client = created.body;
  });
  after(async () => {
    await gatehouse?.close();
    await deploy?.drop();
  });

  async function user(name: string, roles: string[]) {
    return gatehouse.services.accounts.createUser({ username: `${name}${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD, roles });
  }

  const token = (params: Record<string, string>) => basicAuthTokenRequest(gatehouse.url, { clientId: client.client_id, secret: client.client_secret }, params);

  const scopesOf = (jwt: string) => String((JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { scope?: string }).scope ?? '').split(' ').filter(Boolean);
  const audienceOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { aud?: unknown }).aud;

  async function codeFlow(username: string) {
    const verifier = 'v'.repeat(64);
    const auth = new URL(`${gatehouse.url}/auth`);
    auth.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid admin',
      resource: audience,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const { callback } = await signIn(new UserAgent(), auth.toString(), REDIRECT, { username, password: PASSWORD });
    const code = callback.searchParams.get('code');
    expect(code, callback.toString()).to.be.a('string');
    const tokens = await token({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier, resource: audience });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    return tokens.body;
  }

  it('authorization code: a user without the role gets a token without `admin`; an admin gets it', async () => {
    const plain = await user('plain', []);
    const tokens = await codeFlow(plain.username);
    expect(audienceOf(tokens.access_token!)).to.equal(audience);
    expect(scopesOf(tokens.access_token!)).to.not.include('admin');
    expect(String(tokens.scope).split(' ')).to.not.include('admin');
    const use = await callAdmin(gatehouse.url, tokens.access_token, 'GET', '/users');
    expect(use.status).to.equal(403);
    expect(use.body.code).to.equal('scope_missing');

    const admin = await user('ada', ['admin']);
    const adminTokens = await codeFlow(admin.username);
    expect(scopesOf(adminTokens.access_token!)).to.include('admin');
    expect((await callAdmin(gatehouse.url, adminTokens.access_token, 'GET', '/users')).status).to.equal(200);
  });

  it('refresh: the role is read at each refresh — taken away, the next token has no `admin`; given back, it has', async () => {
    const admin = await user('rhea', ['admin']);
    const first = await codeFlow(admin.username);
    expect(first.refresh_token).to.be.a('string');
    await callAdmin(gatehouse.url, operator, 'PATCH', `/users/${admin.id}`, { roles: [] });
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, resource: audience });
    expect(refreshed.status, JSON.stringify(refreshed.body)).to.equal(200);
    expect(scopesOf(refreshed.body.access_token!)).to.not.include('admin');
    // Asking for it by name changes nothing.
    const asked = await token({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token!, resource: audience, scope: 'openid admin' });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(200);
    expect(scopesOf(asked.body.access_token!)).to.not.include('admin');
    await callAdmin(gatehouse.url, operator, 'PATCH', `/users/${admin.id}`, { roles: ['admin'] });
    const restored = await token({ grant_type: 'refresh_token', refresh_token: asked.body.refresh_token!, resource: audience });
    expect(scopesOf(restored.body.access_token!)).to.include('admin');
  });

  it('password grant: a user without the role gets no `admin`; an admin does', async () => {
    const plain = await user('pat', []);
    const refused = await token({ grant_type: 'password', username: plain.username, password: PASSWORD, scope: 'openid admin', resource: audience });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(200);
    expect(scopesOf(refused.body.access_token!)).to.not.include('admin');
    expect(String(refused.body.scope).split(' ')).to.not.include('admin');
    const admin = await user('adm', ['admin']);
    const granted = await token({ grant_type: 'password', username: admin.username, password: PASSWORD, scope: 'openid admin', resource: audience });
    expect(scopesOf(granted.body.access_token!)).to.include('admin');
  });

  it('device code: a user without the role gets no `admin`', async () => {
    const plain = await user('dev', []);
    const started = await fetch(`${gatehouse.url}/device/auth`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(client.client_id, client.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ scope: 'openid admin', resource: audience }).toString(),
    });
    const device = (await started.json()) as Record<string, string>;
    expect(started.status, JSON.stringify(device)).to.equal(200);
    await browse(new UserAgent(), device.verification_uri!, 'never:', { username: plain.username, password: PASSWORD, userCode: device.user_code! });
    const tokens = await token({ grant_type: DEVICE_GRANT, device_code: device.device_code!, resource: audience });
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect(scopesOf(tokens.body.access_token!)).to.not.include('admin');
  });
});
