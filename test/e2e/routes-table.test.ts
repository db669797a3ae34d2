import { expect } from 'chai';
import * as oidc from 'openid-client';
import { createLogger } from '../../src/observability/logger.ts';
import { clientOperations } from '../../src/operations/clients.ts';
import type { RoutesTable } from '../../src/routes/table.ts';
import { startGatehouse, type RunningGatehouse } from '../../src/server.ts';
import { browse, formsOf, signIn, UserAgent } from '../helpers/browserless.ts';
import { testConfig } from '../helpers/config.ts';
import { authorizationRequest, deployment, FAST_HASHING, PASSWORD, REDIRECT_URI, relyingParty, seed, type Deployment, type Seeded } from '../helpers/e2e.ts';
import { freePort } from '../helpers/redis-server.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

async function introspect(url: string, clientId: string, secret: string, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: clientSecretBasic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status, `${url} answers`).to.equal(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('routes table: the paths in front of the provider match the way the provider matches', () => {
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    deploy = await deployment('routes_match');
    gatehouse = await deploy.start();
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('introspects a JWT at /token/introspection/ and /TOKEN/Introspection (trailing slash, case) like at the exact path', async () => {
    const service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    const { access_token: jwt } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    for (const path of ['/token/introspection', '/token/introspection/', '/TOKEN/Introspection']) {
      expect(await introspect(`${deploy.issuer}${path}`, cast.service.clientId, cast.service.secret, jwt), path).to.include({ active: true, client_id: cast.service.clientId });
    }
  });

  it('revokes a JWT at /token/revocation/ (trailing slash)', async () => {
    const service = await relyingParty(deploy.issuer, cast.service.clientId, cast.service.secret);
    const { access_token: jwt } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    const response = await fetch(`${deploy.issuer}/token/revocation/`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(cast.service.clientId, cast.service.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: jwt }).toString(),
    });
    expect(response.status).to.equal(200);
    expect(await introspect(`${deploy.issuer}/token/introspection`, cast.service.clientId, cast.service.secret, jwt)).to.include({ active: false });
  });
});

/** Every path moved: a table in which nothing is where Gatehouse's layout puts it. */
const ELSEWHERE: RoutesTable = {
  layout: 'test',
  providerBase: '/id/v2',
  provider: {
    authorization: '/authorize',
    backchannel_authentication: '/ciba',
    challenge: '/nonce',
    code_verification: '/activate',
    credential: '/vc',
    device_authorization: '/oauth/device',
    end_session: '/sign-out',
    introspection: '/oauth/introspect',
    jwks: '/keys',
    pushed_authorization_request: '/oauth/par',
    registration: '/register',
    revocation: '/oauth/revoke',
    token: '/oauth/token',
    userinfo: '/who',
  },
  interaction: '/ui/flow',
  password: '/ui/recover',
  upstream: '/ui/federation',
  email: '/ui/confirm',
  assets: '/ui/static',
  admin: '/manage/v9',
  console: '/manage/console',
  account: '/me/account',
  accountApi: '/me/account/v3',
  healthz: '/live',
  readyz: '/ready',
  metrics: '/prom',
};

describe('routes table: the whole product served under a different table', () => {
  let origin: string;
  let issuer: string;
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let cast: Seeded;

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    issuer = `${origin}${ELSEWHERE.providerBase}`;
    mongodbUri = emptyDatabaseUri('routes_elsewhere');
    const config = testConfig({
      ...FAST_HASHING,
      MONGODB_URI: mongodbUri,
      REDIS_URL: serviceUrls().redisUrl,
      GATEHOUSE_SECRET: randomSecret(),
      GATEHOUSE_ISSUER: origin,
      GATEHOUSE_REDIS_PREFIX: `gh-routes-${port}:`,
      GATEHOUSE_CLIENT_AUTH_FAILURE_LIMIT: '2',
      PORT: String(port),
    });
    gatehouse = await startGatehouse({ ...config, issuer, routes: ELSEWHERE }, createLogger('silent'));
    cast = await seed(gatehouse);
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  it('publishes discovery and every endpoint under the table, and nothing at the default paths', async () => {
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(discovery).to.include({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      userinfo_endpoint: `${issuer}/who`,
      jwks_uri: `${issuer}/keys`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      end_session_endpoint: `${issuer}/sign-out`,
      device_authorization_endpoint: `${issuer}/oauth/device`,
    });
    for (const path of ['/.well-known/openid-configuration', '/jwks', '/healthz', '/readyz', '/metrics', '/admin/api/v1/openapi.json', '/assets/gatehouse.css']) {
      expect((await fetch(`${origin}${path}`)).status, path).to.equal(404);
    }
    const token = await fetch(`${origin}/token`, { method: 'POST', headers: { authorization: clientSecretBasic(cast.service.clientId, cast.service.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(token.status).to.equal(404);
  });

  it('serves health, readiness and metrics at the table’s paths', async () => {
    expect((await fetch(`${origin}/live`)).status).to.equal(200);
    expect((await fetch(`${origin}/ready`)).status).to.equal(200);
    const metrics = await fetch(`${origin}/prom`);
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.match(/^# HELP /m);
  });

  it('signs in on hosted pages under the table (stylesheets, form actions, CSRF cookie path) and issues working tokens', async () => {
    const web = await relyingParty(issuer, cast.web.clientId, cast.web.secret);
    const request = await authorizationRequest(web, REDIRECT_URI);
    expect(request.url.href.startsWith(`${issuer}/authorize?`)).to.equal(true);
    const agent = new UserAgent();
    const first = await agent.request(request.url.href);
    const page = new URL(first.headers.get('location')!, request.url);
    expect(page.pathname).to.match(/^\/ui\/flow\/[\w-]+$/);
    const pageResponse = await agent.request(page.href);
    const html = await pageResponse.text();
    expect(html).to.include('href="/ui/static/gatehouse.css"').and.include('href="/ui/static/theme.css"');
    expect(formsOf(html).map((form) => form.action)).to.include(`${page.pathname}/login`).and.include(`${page.pathname}/abort`);
    expect(pageResponse.headers.getSetCookie().find((line) => line.startsWith('gatehouse.csrf='))).to.match(/path=\/ui\/flow;/i);
    expect((await fetch(`${origin}/ui/static/gatehouse.css`)).status).to.equal(200);

    const { callback } = await signIn(agent, page.href, REDIRECT_URI, { username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(web, callback, request.checks);
    expect(tokens.claims()?.iss).to.equal(issuer);
    const userinfo = await oidc.fetchUserInfo(web, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).to.equal(cast.user.id);
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    expect(refreshed.access_token).to.be.a('string');

    // Sign-out: the provider's confirmation page posts to the table's end-session path.
    const signOut = await agent.request(`${issuer}/sign-out?id_token_hint=${tokens.id_token}`);
    expect(signOut.status).to.equal(200);
    expect(formsOf(await signOut.text()).map((form) => form.action)).to.include(`${issuer}/sign-out/confirm`);
  });

  it('swaps JWTs at the table’s introspection and revocation paths (trailing slash and case too)', async () => {
    const service = await relyingParty(issuer, cast.service.clientId, cast.service.secret);
    const { access_token: jwt } = await oidc.clientCredentialsGrant(service, { scope: 'read' });
    for (const path of ['/oauth/introspect', '/oauth/introspect/', '/OAuth/Introspect']) {
      expect(await introspect(`${issuer}${path}`, cast.service.clientId, cast.service.secret, jwt), path).to.include({ active: true });
    }
    const revoked = await fetch(`${issuer}/oauth/revoke/`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(cast.service.clientId, cast.service.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: jwt }).toString(),
    });
    expect(revoked.status).to.equal(200);
    expect(await introspect(`${issuer}/oauth/introspect`, cast.service.clientId, cast.service.secret, jwt)).to.include({ active: false });
  });

  it('runs the device flow through the table’s device paths', async () => {
    const tv = await gatehouse.services.clients.create({
      displayName: 'TV',
      metadata: { redirect_uris: [], response_types: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none', scope: 'openid' },
    });
    const device = await relyingParty(issuer, tv.client.clientId);
    const started = await oidc.initiateDeviceAuthorization(device, { scope: 'openid' });
    expect(started.verification_uri).to.equal(`${issuer}/activate`);
    const agent = new UserAgent();
    await browse(agent, started.verification_uri, REDIRECT_URI, { userCode: started.user_code, username: cast.user.username, password: PASSWORD });
    const tokens = await oidc.pollDeviceAuthorizationGrant(device, started);
    expect(tokens.claims()?.iss).to.equal(issuer);
  });

  it('serves the admin API under the table, with tokens for the audience it names', async () => {
    const openapi = (await (await fetch(`${origin}/manage/v9/openapi.json`)).json()) as { servers: Array<{ url: string }> };
    expect(openapi.servers).to.deep.equal([{ url: `${origin}/manage/v9` }]);
    expect(gatehouse.services.adminAudience).to.equal(`${origin}/manage/v9`);
    const created = await clientOperations(gatehouse.services).create({ actor: { type: 'system', id: 'test' } }, { name: 'ops', admin: true });
    const response = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(created.client.clientId, created.secret!), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin' }).toString(),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const clients = await fetch(`${origin}/manage/v9/clients`, { headers: { authorization: `Bearer ${token}` } });
    expect(clients.status).to.equal(200);
  });

  it('limits failed client authentication at the table’s token path, whatever its case or trailing slash', async () => {
    const attempt = (path: string) =>
      fetch(`${issuer}${path}`, {
        method: 'POST',
        headers: { authorization: clientSecretBasic(cast.service.clientId, 'wrong-secret'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    expect((await attempt('/oauth/token')).status).to.equal(401);
    expect((await attempt('/oauth/token/')).status).to.equal(401);
    // Failures are counted from the provider's events before each response leaves: the very next attempt is refused.
    expect((await attempt('/OAUTH/Token/')).status).to.equal(429);
    const limited = await attempt('/oauth/token');
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('retry-after')).to.match(/^\d+$/);
  });
});
