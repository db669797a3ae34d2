import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { PROBLEMS, problemText } from '../../src/errors/problems.ts';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { startInstance } from '../helpers/instance.ts';
import { emptyDatabaseUri, randomSecret, recycleDatabase, serviceUrls } from '../helpers/stores.ts';
import { browse, UserAgent, signIn } from '../helpers/browserless.ts';
import { freePort } from '../helpers/redis-server.ts';
import { basicAuthTokenRequest } from '../helpers/e2e.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';

const API = 'https://orders.example.com';

describe('admin API /admin/api/v1 (real stores, own tokens)', () => {
  let mongodbUri: string;
  let gatehouse: RunningGatehouse;
  let token: string;
  let weak: string;
  let admin: Awaited<ReturnType<typeof adminClient>>;
  const call = (method: string, path: string, body?: unknown, bearer: string | null = token) => callAdmin(gatehouse.url, bearer ?? undefined, method, path, body);

  before(async () => {
    mongodbUri = emptyDatabaseUri('admin_api');
    const port = await freePort();
    gatehouse = await startInstance({
      issuer: `http://127.0.0.1:${port}`,
      mongodbUri,
      redisUrl: serviceUrls().redisUrl,
      secret: randomSecret(),
      settings: { PORT: String(port), GATEHOUSE_ADMIN_USERNAME: 'root', GATEHOUSE_ADMIN_PASSWORD: 'bootstrap-password-1', GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' },
    });
    admin = await adminClient(gatehouse);
    token = await admin.token();
    weak = await admin.token('');
  });
  after(async () => {
    await gatehouse.close();
    await recycleDatabase(mongodbUri);
  });

  describe('authentication', () => {
    it('401 without a token, with a garbage token, and with a token for another audience', async () => {
      expect((await call('GET', '/clients', undefined, null)).status).to.equal(401);
      const garbage = await call('GET', '/clients', undefined, 'not.a.jwt');
      expect(garbage.status).to.equal(401);
      expect(garbage.body.error).to.equal('invalid_token');
      await call('POST', '/apis', { identifier: 'https://other.example.com', scopes: ['admin'] });
      await gatehouse.services.clients.update(admin.clientId, { allowedApis: [gatehouse.services.adminAudience, 'https://other.example.com'] });
      const other = await clientCredentials(gatehouse.url, admin.clientId, admin.secret, { resource: 'https://other.example.com', scope: 'admin' });
      expect(other.status, JSON.stringify(other.body)).to.equal(200);
      const foreign = await call('GET', '/clients', undefined, other.body.access_token as string);
      expect(foreign.status).to.equal(401);
      expect(foreign.body).to.include({ error: 'invalid_token', code: 'token_invalid' });
    });

    it('401 and 403 carry a top-level problem code like every other error, its English from the catalogue', async () => {
      const missing = await call('GET', '/clients', undefined, null);
      expect(missing.body).to.deep.include({ error: 'invalid_token', code: 'token_missing', error_description: PROBLEMS.token_missing });
      expect(missing.headers.get('www-authenticate')).to.equal(`Bearer error="invalid_token", error_description="${PROBLEMS.token_missing}"`);
      expect((await call('GET', '/clients', undefined, 'not.a.jwt')).body).to.include({ code: 'token_invalid' });
      const scopeless = await call('GET', '/clients', undefined, weak);
      expect(scopeless.body).to.deep.include({ error: 'insufficient_scope', code: 'scope_missing', params: { scope: 'admin' }, error_description: problemText('scope_missing', { scope: 'admin' }) });
      // The OpenAPI document lists the codes each refusal can carry.
      const document = (await call('GET', '/openapi.json', undefined, null)).body;
      const codes = (status: string) => document.paths['/clients'].get.responses[status].content['application/json'].schema.allOf[1].properties.code.enum as string[];
      expect(codes('401')).to.include.members(['token_missing', 'token_invalid', 'token_revoked', 'token_session_ended', 'token_sender_constrained']);
      expect(codes('403')).to.have.members(['scope_missing', 'not_admin_client', 'role_missing']);
    });

    it('403 with an admin-audience token lacking the admin scope', async () => {
      const response = await call('GET', '/clients', undefined, weak);
      expect(response.status).to.equal(403);
      expect(response.body.error).to.equal('insufficient_scope');
    });

    it('a revoked token is refused at once (its record is gone)', async () => {
      const fresh = await admin.token();
      expect((await call('GET', '/keys', undefined, fresh)).status).to.equal(200);
      const revoked = await fetch(`${gatehouse.url}/token/revocation`, {
        method: 'POST',
        headers: { authorization: clientSecretBasic(admin.clientId, admin.secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: fresh }).toString(),
      });
      expect(revoked.status).to.equal(200);
      const gone = await call('GET', '/keys', undefined, fresh);
      expect(gone.status).to.equal(401);
      expect(gone.body).to.include({ code: 'token_revoked' });
    });

    it('refuses a DPoP-bound admin token presented as a bearer token', async () => {
      const oidc = await import('openid-client');
      const config = await oidc.discovery(new URL(gatehouse.url), admin.clientId, admin.secret, oidc.ClientSecretBasic(admin.secret), {
        execute: [oidc.allowInsecureRequests],
      });
      const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const bound = await oidc.clientCredentialsGrant(config, { scope: 'admin' }, { DPoP: dpop });
      expect(bound.token_type.toLowerCase()).to.equal('dpop');
      const refused = await call('GET', '/keys', undefined, bound.access_token);
      expect(refused.status).to.equal(401);
      expect(refused.body).to.include({ error: 'invalid_token', code: 'token_sender_constrained' });
    });

    it('non-admin clients cannot get the admin audience (invalid_target)', async () => {
      const plain = await call('POST', '/clients', { name: 'plain' });
      const refused = await clientCredentials(gatehouse.url, plain.body.client_id, plain.body.client_secret, { resource: gatehouse.services.adminAudience, scope: 'admin' });
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.equal('invalid_target');
    });

    it('every route answers 401 without a token and 403 without the admin scope', async () => {
      const document = (await call('GET', '/openapi.json', undefined, null)).body as { paths: Record<string, Record<string, unknown>> };
      for (const [path, operations] of Object.entries(document.paths)) {
        const concrete = path.replace(/\{[^}]+\}/g, 'x');
        for (const method of Object.keys(operations)) {
          const anonymous = await call(method.toUpperCase(), concrete, undefined, null);
          expect([anonymous.status, anonymous.body.code], `${method} ${path}`).to.deep.equal([401, 'token_missing']);
          const scopeless = await call(method.toUpperCase(), concrete, undefined, weak);
          expect([scopeless.status, scopeless.body.code], `${method} ${path}`).to.deep.equal([403, 'scope_missing']);
        }
      }
    });

    it('a bootstrap administrator exists, and a user with the admin role gets in through the code flow', async () => {
      const root = await gatehouse.services.accounts.findByLogin('root');
      expect(root?.roles).to.include('admin');
      const console = await call('POST', '/clients', { name: 'console', admin: true, first_party: true, redirect_uris: ['https://console.example.com/cb'], grant_types: ['authorization_code', 'refresh_token'] });
      expect(console.status).to.equal(201);
      const agent = new UserAgent();
      const auth = new URL(`${gatehouse.url}/auth`);
      const verifier = 'v'.repeat(64);
      const { createHash } = await import('node:crypto');
      auth.search = new URLSearchParams({
        client_id: console.body.client_id,
        response_type: 'code',
        redirect_uri: 'https://console.example.com/cb',
        scope: 'openid admin',
        resource: gatehouse.services.adminAudience,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const { callback } = await signIn(agent, auth.toString(), 'https://console.example.com/cb', { username: 'root', password: 'bootstrap-password-1' });
      const code = callback.searchParams.get('code');
      expect(code, callback.toString()).to.be.a('string');
      const { status, body: tokens } = await basicAuthTokenRequest(
        gatehouse.url,
        { clientId: console.body.client_id, secret: console.body.client_secret },
        { grant_type: 'authorization_code', code: code!, redirect_uri: 'https://console.example.com/cb', code_verifier: verifier, resource: gatehouse.services.adminAudience },
      );
      expect(status, JSON.stringify(tokens)).to.equal(200);
      const asUser = await call('GET', '/users?q=ro', undefined, tokens.access_token);
      expect(asUser.status).to.equal(200);
      expect(asUser.body.users.map((u: { username: string }) => u.username)).to.include('root');
      const events = await call('GET', `/audit-events?type=user.created&user=${root!.id}`);
      expect(events.body.events.some((e: { actor: { id: string } }) => e.actor.id === 'bootstrap')).to.equal(true);
      // Who signed in to what: the sign-in names the user (found by username too) and the client.
      await gatehouse.audit.flush();
      const signIns = await call('GET', '/audit-events?type=signin.success&user=root');
      expect(signIns.body.events).to.have.length(1);
      expect(signIns.body.events[0]).to.deep.include({ actor: { type: 'user', id: root!.id, username: 'root' }, client: console.body.client_id });
      expect(signIns.body.events[0].ip).to.match(/127\.0\.0\.1/);
      // What a person does with the admin API names them and the client they came through.
      expect((await call('POST', '/roles', { name: 'via-console' }, tokens.access_token)).status).to.equal(201);
      const byRoot = await call('GET', '/audit-events?type=role.created&user=root');
      expect(byRoot.body.events[0]).to.deep.include({ actor: { type: 'user', id: root!.id, username: 'root' }, client: console.body.client_id });
      // Taking the role away works on the next request, with the same token (another admin exists
      // meanwhile: the last one's role is not taken, test/integration/last-admin.test.ts).
      const deputy = await call('POST', '/users', { username: 'deputy', password: 'deputy-password-1', roles: ['admin'] });
      expect((await call('PATCH', `/users/${root!.id}`, { roles: [] })).status).to.equal(200);
      const roleless = await call('GET', '/users', undefined, tokens.access_token);
      expect(roleless.status).to.equal(403);
      expect(roleless.body).to.deep.include({ error: 'insufficient_scope', code: 'role_missing', params: { role: 'admin' } });
      await call('PATCH', `/users/${root!.id}`, { roles: ['admin'] });
      expect((await call('GET', '/users', undefined, tokens.access_token)).status).to.equal(200);
      expect((await call('DELETE', `/users/${deputy.body.id}`)).status).to.equal(204);
      // Signing out ends the session, and the session-bound admin token with it.
      const logout = new URL(`${gatehouse.url}/session/end`);
      logout.search = new URLSearchParams({ id_token_hint: tokens.id_token!, client_id: console.body.client_id }).toString();
      await browse(agent, logout.toString(), 'never:');
      const after = await call('GET', '/users', undefined, tokens.access_token);
      expect(after.status).to.equal(401);
      expect(after.body).to.include({ error: 'invalid_token', code: 'token_revoked' });
    });
  });

  describe('clients', () => {
    it('create (secret once), list, get, update, rotate, delete; 400 with field path; 404; 409', async () => {
      expect((await call('POST', '/apis', { identifier: API, scopes: ['read', 'write'] })).status).to.equal(201);
      const created = await call('POST', '/clients', { client_id: 'svc-orders', name: 'Orders service', apis: [API] });
      expect(created.status).to.equal(201);
      expect(created.body.client_secret).to.be.a('string');
      expect(created.body.default_api).to.equal(API);
      const got = await call('GET', '/clients/svc-orders');
      expect(got.status).to.equal(200);
      expect(JSON.stringify(got.body)).not.to.include(created.body.client_secret);
      expect((await call('GET', '/clients')).body.map((c: { client_id: string }) => c.client_id)).to.include('svc-orders');

      const cc = await clientCredentials(gatehouse.url, 'svc-orders', created.body.client_secret, { scope: 'read' });
      expect(cc.status, JSON.stringify(cc.body)).to.equal(200);

      // Scopes within an API can be limited per client.
      const narrowed = await call('PATCH', '/clients/svc-orders', { api_scopes: [{ api: API, scopes: ['read'] }] });
      expect(narrowed.status).to.equal(200);
      expect(narrowed.body.api_scopes).to.deep.equal([{ api: API, scopes: ['read'] }]);
      const write = await clientCredentials(gatehouse.url, 'svc-orders', created.body.client_secret, { scope: 'write' });
      expect(write.status).to.equal(400);
      expect(write.body.error).to.equal('invalid_scope');
      expect((await call('PATCH', '/clients/svc-orders', { api_scopes: [{ api: 'nope', scopes: [] }] })).body.details[0].path).to.equal('api_scopes.0.api');
      expect((await call('PATCH', '/clients/svc-orders', { api_scopes: null })).status).to.equal(200);

      const invalid = await call('POST', '/clients', { name: 'x', redirect_uris: ['not a uri'] });
      expect(invalid.status).to.equal(400);
      expect(invalid.body.details[0].path).to.equal('redirect_uris.0');
      const unknownApi = await call('POST', '/clients', { name: 'x', apis: ['https://nope.example.com'] });
      expect(unknownApi.status).to.equal(400);
      expect(unknownApi.body.details[0].path).to.equal('apis.0');
      expect((await call('POST', '/clients', { client_id: 'svc-orders', name: 'again' })).status).to.equal(409);
      expect((await call('POST', '/clients', '{not json')).status).to.equal(400);

      const updated = await call('PATCH', '/clients/svc-orders', { name: 'Orders', web_origins: ['https://orders.example.com'] });
      expect(updated.status).to.equal(200);
      expect(updated.body).to.include({ name: 'Orders' });
      expect((await call('PATCH', '/clients/svc-orders', { web_origins: ['https://x.example.com/path'] })).body.details[0].path).to.equal('web_origins.0');
      expect((await call('PATCH', '/clients/missing', { name: 'x' })).status).to.equal(404);

      const rotated = await call('POST', '/clients/svc-orders/secret');
      expect(rotated.status).to.equal(200);
      expect(rotated.body.client_secret).to.be.a('string').and.not.equal(created.body.client_secret);
      expect((await call('POST', '/clients/missing/secret')).status).to.equal(404);
      expect((await call('GET', '/clients/missing')).status).to.equal(404);

      const fresh = await clientCredentials(gatehouse.url, 'svc-orders', rotated.body.client_secret, { scope: 'read' });
      expect(fresh.status).to.equal(200);
      expect((await call('DELETE', '/clients/svc-orders')).status).to.equal(204);
      expect((await call('DELETE', '/clients/svc-orders')).status).to.equal(404);
      // Its token's record went with it: introspection by the API owner says inactive.
      expect(await gatehouse.services.clients.get('svc-orders')).to.equal(undefined);
    });

    it('refuses at the door: non-http(s) redirect URIs, the admin API among a client\'s APIs, an empty PATCH (400 naming the field)', async () => {
      for (const uri of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'com.example.app:/cb']) {
        const created = await call('POST', '/clients', { name: 'x', redirect_uris: [uri] });
        expect(created.status, uri).to.equal(400);
        expect(created.body.details[0].path).to.equal('redirect_uris.0');
        const logout = await call('POST', '/clients', { name: 'x', redirect_uris: ['https://ok.example.com/cb'], post_logout_redirect_uris: [uri] });
        expect(logout.body.details[0].path, uri).to.equal('post_logout_redirect_uris.0');
      }
      const adminAudience = gatehouse.services.adminAudience;
      const withAdminApi = await call('POST', '/clients', { name: 'x', apis: [adminAudience] });
      expect(withAdminApi.status).to.equal(400);
      expect(withAdminApi.body.details[0].path).to.equal('apis.0');
      const plain = await call('POST', '/clients', { name: 'Plain service' });
      expect(plain.status).to.equal(201);
      const patched = await call('PATCH', `/clients/${plain.body.client_id}`, { apis: [adminAudience] });
      expect(patched.status).to.equal(400);
      expect(patched.body.details[0].path).to.equal('apis.0');
      expect((await call('PATCH', `/clients/${plain.body.client_id}`, { redirect_uris: ['javascript:alert(1)'] })).body.details[0].path).to.equal('redirect_uris.0');
      const empty = await call('PATCH', `/clients/${plain.body.client_id}`, {});
      expect(empty.status).to.equal(400);
      expect(empty.body.error).to.be.a('string');
      const admin = await call('POST', '/clients', { name: 'Ops robot', admin: true, apis: [adminAudience] });
      expect(admin.status, JSON.stringify(admin.body)).to.equal(201);
      expect(admin.body.apis).to.deep.equal([adminAudience]);
    });
  });

  describe('users', () => {
    it('create, search with pagination, get, update, password, disable/enable, unlock, sessions, grants; 400/404/409', async () => {
      const created = await call('POST', '/users', { username: 'alice', password: 'correct horse 1', email: 'alice@example.com', roles: ['staff'] });
      expect(created.status).to.equal(201);
      await call('POST', '/users', { username: 'alicia', password: 'correct horse 2' });
      const id = created.body.id as string;
      expect((await call('POST', '/users', { username: 'ALICE', password: 'correct horse 1' })).status).to.equal(409);
      const bad = await call('POST', '/users', { username: 'bob', password: 'short' });
      expect(bad.status).to.equal(400);
      const badType = await call('POST', '/users', { username: 'bob', password: 'long enough pw', roles: 'admin' });
      expect(badType.body.details[0].path).to.equal('roles');

      const page1 = await call('GET', '/users?q=ali&limit=1');
      expect(page1.body.total).to.equal(2);
      expect(page1.body.users).to.have.length(1);
      const page2 = await call('GET', '/users?q=ali&limit=1&offset=1');
      expect(page2.body.users[0].username).not.to.equal(page1.body.users[0].username);
      expect((await call('GET', '/users?limit=0')).body.details[0].path).to.equal('limit');

      expect((await call('GET', `/users/${id}`)).body.email).to.equal('alice@example.com');
      expect((await call('GET', '/users/nobody')).status).to.equal(404);
      const updated = await call('PATCH', `/users/${id}`, { name: 'Alice A', groups: ['eng'] });
      expect(updated.body).to.deep.include({ name: 'Alice A', groups: ['eng'] });
      expect((await call('PATCH', '/users/nobody', { name: 'x' })).status).to.equal(404);
      expect((await call('PATCH', `/users/${id}`, { email: 'not-an-email' })).status).to.equal(400);

      expect((await call('PUT', `/users/${id}/password`, { password: 'another horse 3' })).status).to.equal(204);
      expect((await call('PUT', `/users/${id}/password`, {})).body.details[0].path).to.equal('password');
      expect((await call('PUT', '/users/nobody/password', { password: 'another horse 3' })).status).to.equal(404);

      expect((await call('POST', `/users/${id}/disable`)).status).to.equal(204);
      expect((await call('GET', `/users/${id}`)).body.disabled).to.equal(true);
      expect((await call('POST', `/users/${id}/enable`)).status).to.equal(204);
      expect((await call('POST', '/users/nobody/disable')).status).to.equal(404);
      expect((await call('POST', '/users/nobody/enable')).status).to.equal(404);
      expect((await call('POST', `/users/${id}/unlock`)).body).to.deep.equal({ lifted: 0 });
      expect((await call('POST', '/users/nobody/unlock')).status).to.equal(404);

      expect((await call('GET', `/users/${id}/sessions`)).body).to.deep.equal([]);
      expect((await call('GET', `/users/${id}/grants`)).body).to.deep.equal([]);
      expect((await call('GET', '/users/nobody/sessions')).status).to.equal(404);
      const nothing = await call('PATCH', `/users/${id}`, {});
      expect(nothing.status).to.equal(400);
      expect(nothing.body.details[0]).to.deep.include({ code: 'nothing_to_change' });
      expect((await call('GET', '/users/nobody/grants')).status).to.equal(404);
      expect((await call('DELETE', `/users/${id}/sessions/nope`)).status).to.equal(404);
      expect((await call('DELETE', `/users/${id}/grants/nope`)).status).to.equal(404);
      expect((await call('DELETE', `/users/${id}/grants`)).body).to.deep.equal({ grants: 0, sessions: 0, tokens: 0 });
      expect((await call('DELETE', '/users/nobody/grants')).status).to.equal(404);

      const audit = await call('GET', `/audit-events?user=${id}`);
      expect(audit.body.events.map((e: { type: string }) => e.type)).to.include.members(['user.created', 'user.updated', 'user.password_set', 'user.disabled', 'user.enabled']);
      expect(audit.body.events.every((e: { actor: { type: string; id: string }; client: string }) => e.actor.type === 'client' && e.actor.id === admin.clientId && e.client === admin.clientId)).to.equal(true);
    });

    it('disabling a signed-in user revokes their session and grant at once', async () => {
      await call('POST', '/users', { username: 'carol', password: 'carol password 1' });
      const rp = await call('POST', '/clients', { name: 'rp', first_party: true, redirect_uris: ['https://rp.example.com/cb'] });
      const agent = new UserAgent();
      const auth = new URL(`${gatehouse.url}/auth`);
      auth.search = new URLSearchParams({ client_id: rp.body.client_id, response_type: 'code', redirect_uri: 'https://rp.example.com/cb', scope: 'openid' }).toString();
      await signIn(agent, auth.toString(), 'https://rp.example.com/cb', { username: 'carol', password: 'carol password 1' });
      const carol = await gatehouse.services.accounts.findByLogin('carol');
      const sessions = await call('GET', `/users/${carol!.id}/sessions`);
      expect(sessions.body).to.have.length(1);
      expect(sessions.body[0].clients).to.deep.equal([rp.body.client_id]);
      expect((await call('GET', `/users/${carol!.id}/grants`)).body).to.have.length(1);
      await call('POST', `/users/${carol!.id}/disable`);
      expect((await call('GET', `/users/${carol!.id}/sessions`)).body).to.deep.equal([]);
      expect((await call('GET', `/users/${carol!.id}/grants`)).body).to.deep.equal([]);
    });
  });

  describe('APIs, roles, groups, keys, audit, registration', () => {
    it('APIs: create, list, update, delete; 400/404/409; the admin API is protected', async () => {
      const created = await call('POST', '/apis', { identifier: 'https://billing.example.com', scopes: ['invoices:read'] });
      expect(created.status).to.equal(201);
      expect((await call('POST', '/apis', { identifier: 'https://billing.example.com' })).status).to.equal(409);
      expect((await call('POST', '/apis', { identifier: 'relative/path' })).body.details[0].path).to.equal('identifier');
      expect((await call('GET', '/apis')).body.map((a: { identifier: string }) => a.identifier)).to.include('https://billing.example.com');
      const encoded = encodeURIComponent('https://billing.example.com');
      const updated = await call('PATCH', `/apis/${encoded}`, { scopes: ['invoices:read', 'invoices:write'], access_token_ttl: 300 });
      expect(updated.body).to.deep.include({ scopes: ['invoices:read', 'invoices:write'], access_token_ttl: 300 });
      expect((await call('PATCH', `/apis/${encoded}`, { access_token_ttl: 1 })).body.details[0].path).to.equal('access_token_ttl');
      expect((await call('PATCH', '/apis/nope', { name: 'x' })).status).to.equal(404);
      // A patch that names nothing is refused (as for clients), not audited as an update of no field.
      const empty = await call('PATCH', `/apis/${encoded}`, {});
      expect(empty.status).to.equal(400);
      expect(empty.body.details[0]).to.deep.include({ code: 'nothing_to_change' });
      expect((await call('DELETE', `/apis/${encodeURIComponent(gatehouse.services.adminAudience)}`)).status).to.equal(400);
      expect((await call('DELETE', `/apis/${encoded}`)).status).to.equal(204);
      expect((await call('DELETE', `/apis/${encoded}`)).status).to.equal(404);
    });

    it('APIs: deleting one takes it off every client that names it (APIs, default API, scope limits, exchange policy), audited with those clients', async () => {
      const stock = 'https://stock.example.com';
      const shipping = 'https://shipping.example.com';
      for (const identifier of [stock, shipping]) expect((await call('POST', '/apis', { identifier, scopes: ['read'] })).status).to.equal(201);
      const trusted = await call('POST', '/clients', { name: 'Stock web', redirect_uris: ['https://stock-web.example.com/cb'] });
      const both = await call('POST', '/clients', {
        name: 'Stock sync',
        grant_types: ['client_credentials'],
        apis: [stock, shipping],
        default_api: stock,
        api_scopes: [{ api: stock, scopes: ['read'] }],
        token_exchange: { apis: [stock], trusted_clients: [trusted.body.client_id] },
      });
      expect(both.status, JSON.stringify(both.body)).to.equal(201);
      const only = await call('POST', '/clients', { name: 'Stock only', grant_types: ['client_credentials'], apis: [stock] });
      expect(only.status, JSON.stringify(only.body)).to.equal(201);

      expect((await call('DELETE', `/apis/${encodeURIComponent(stock)}`)).status).to.equal(204);

      expect((await call('GET', `/clients/${both.body.client_id}`)).body).to.deep.include({ apis: [shipping], default_api: shipping, api_scopes: null, token_exchange: null });
      expect((await call('GET', `/clients/${only.body.client_id}`)).body).to.deep.include({ apis: [], default_api: null });
      expect((await call('GET', `/clients/${trusted.body.client_id}`)).status).to.equal(200);
      // Still editable field by field (before, a rename was refused: apis.0 unknown_api).
      const renamed = await call('PATCH', `/clients/${only.body.client_id}`, { name: 'Stock only (renamed)' });
      expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
      const events = (await call('GET', '/audit-events?type=api.deleted&limit=1')).body.events;
      expect(events[0].target).to.deep.equal({ type: 'api', id: stock });
      expect(events[0].details.clients).to.have.members([both.body.client_id, only.body.client_id]);
      expect((await call('DELETE', `/apis/${encodeURIComponent(shipping)}`)).status).to.equal(204);
    });

    it('clients: a field-by-field update does not re-check APIs it does not touch (a client left naming an API that is gone stays editable)', async () => {
      const client = await call('POST', '/clients', { name: 'Legacy sync', grant_types: ['client_credentials'] });
      // What a client created while its API was being deleted is left with.
      await gatehouse.services.clients.update(client.body.client_id, { allowedApis: ['https://gone.example.com'] });
      const renamed = await call('PATCH', `/clients/${client.body.client_id}`, { name: 'Legacy sync 2' });
      expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
      expect(renamed.body).to.deep.include({ name: 'Legacy sync 2', apis: ['https://gone.example.com'] });
      // Naming the list again checks it.
      const named = await call('PATCH', `/clients/${client.body.client_id}`, { apis: ['https://gone.example.com'] });
      expect(named.status).to.equal(400);
      expect(named.body.details[0]).to.deep.include({ path: 'apis.0', code: 'unknown_api' });
      expect((await call('PATCH', `/clients/${client.body.client_id}`, { apis: [] })).body.apis).to.deep.equal([]);
    });

    it('APIs: get one; the introspecting client is set, shown and unset; an unknown client is a 400', async () => {
      const introspector = await call('POST', '/clients', { name: 'Payroll API', grant_types: ['client_credentials'] });
      const created = await call('POST', '/apis', { identifier: 'https://payroll.example.com', scopes: ['runs:read'], client_id: introspector.body.client_id });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const encoded = encodeURIComponent('https://payroll.example.com');
      expect((await call('GET', `/apis/${encoded}`)).body).to.deep.include({ identifier: 'https://payroll.example.com', client_id: introspector.body.client_id });
      expect((await call('GET', '/apis/nope')).status).to.equal(404);
      const unknown = await call('PATCH', `/apis/${encoded}`, { client_id: 'nobody' });
      expect(unknown.status).to.equal(400);
      expect(unknown.body.details[0].path).to.equal('client_id');
      expect((await call('PATCH', `/apis/${encoded}`, { client_id: null })).body.client_id).to.equal(null);
      expect((await call('DELETE', `/apis/${encoded}`)).status).to.equal(204);
    });

    it('APIs: deleting the introspecting client unbinds it — a client made later under the same id does not inherit the binding; audited', async () => {
      const introspector = await call('POST', '/clients', { name: 'Ledger API', grant_types: ['client_credentials'] });
      const clientId = introspector.body.client_id as string;
      const identifier = 'https://ledger.example.com';
      expect((await call('POST', '/apis', { identifier, scopes: ['read'], client_id: clientId })).status).to.equal(201);
      expect((await call('DELETE', `/clients/${clientId}`)).status).to.equal(204);
      expect((await call('GET', `/apis/${encodeURIComponent(identifier)}`)).body).to.deep.include({ identifier, client_id: null });
      const events = (await call('GET', '/audit-events?type=client.deleted&limit=1')).body.events;
      expect(events[0].target).to.deep.equal({ type: 'client', id: clientId });
      expect(events[0].details.apis).to.deep.equal([identifier]);
      expect((await call('DELETE', `/apis/${encodeURIComponent(identifier)}`)).status).to.equal(204);
    });

    it('clients and APIs lists: q filters by id or name, limit/offset page, X-Total-Count counts the matches', async () => {
      for (const name of ['Paging One', 'Paging Two', 'Paging Three']) expect((await call('POST', '/clients', { name, grant_types: ['client_credentials'] })).status).to.equal(201);
      const list = async (path: string) => {
        const response = await fetch(`${gatehouse.url}/admin/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, total: response.headers.get('x-total-count'), body: (await response.json()) as Array<{ name: string; identifier?: string }> };
      };
      const all = await list('/clients?q=paging');
      expect(all.total).to.equal('3');
      expect(all.body.map((c) => c.name).sort()).to.deep.equal(['Paging One', 'Paging Three', 'Paging Two']);
      const page = await list('/clients?q=PAGING&limit=2&offset=2');
      expect(page.body).to.have.length(1);
      expect(page.total).to.equal('3');
      expect((await list('/clients?limit=0')).status).to.equal(400);
      const apis = await list(`/apis?q=${encodeURIComponent('/admin/api')}`);
      expect(apis.body.map((a) => a.identifier)).to.deep.equal([gatehouse.services.adminAudience]);
    });

    it('lockouts: newest first, limit pages them (1 to 500, default 100), X-Total-Count counts them all — anyone who fails sign-ins makes them', async () => {
      // Three (login, IP) pairs locked: five wrong passwords each (the default threshold).
      for (const login of ['paged-1', 'paged-2', 'paged-3']) {
        for (let i = 0; i < 5; i += 1) expect((await gatehouse.services.accounts.authenticate(login, 'wrong password!', '203.0.113.77')).ok).to.equal(false);
      }
      const list = async (path: string) => {
        const response = await fetch(`${gatehouse.url}/admin/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, total: response.headers.get('x-total-count'), body: (await response.json()) as Array<{ login: string | null }> & { details?: Array<{ path: string }> } };
      };
      const all = await list('/lockouts');
      const paged = all.body.filter((lockout) => lockout.login?.startsWith('paged-'));
      expect(paged.map((lockout) => lockout.login)).to.deep.equal(['paged-3', 'paged-2', 'paged-1']);
      expect(Number(all.total)).to.equal(all.body.length);
      const first = await list('/lockouts?limit=2');
      expect(first.body).to.have.length(2);
      expect(first.total).to.equal(all.total);
      for (const limit of ['0', '501', 'many']) {
        const refused = await list(`/lockouts?limit=${limit}`);
        expect(refused.status, limit).to.equal(400);
        expect(refused.body.details!.map((detail) => detail.path)).to.deep.equal(['limit']);
      }
      await call('POST', '/lockouts/clear', { ip: '203.0.113.77' });
    });

    it('clients: every field settable, validated (http(s) only where URIs are expected, never javascript:) and shown', async () => {
      const fields = {
        logo_uri: 'https://hr.example.com/logo.png',
        client_uri: 'https://hr.example.com/',
        policy_uri: 'https://hr.example.com/privacy',
        tos_uri: 'https://hr.example.com/terms',
        backchannel_logout_uri: 'https://hr.example.com/bc-logout',
        backchannel_logout_session_required: true,
        minimal_id_token: true,
        login_uses_default_api: true,
        require_pkce: true,
      };
      const created = await call('POST', '/clients', { name: 'HR', redirect_uris: ['https://hr.example.com/cb'], token_endpoint_auth_method: 'client_secret_post', ...fields });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.client_secret).to.be.a('string');
      const got = (await call('GET', `/clients/${created.body.client_id}`)).body;
      expect(got).to.deep.include({ ...fields, token_endpoint_auth_method: 'client_secret_post', type: 'confidential' });
      const cleared = await call('PATCH', `/clients/${created.body.client_id}`, { logo_uri: null, minimal_id_token: null, token_endpoint_auth_method: 'client_secret_basic' });
      expect(cleared.body).to.deep.include({ logo_uri: null, minimal_id_token: false, token_endpoint_auth_method: 'client_secret_basic', tos_uri: fields.tos_uri });

      const path = async (body: Record<string, unknown>, method = 'POST', url = '/clients') => {
        const response = await call(method, url, body);
        expect(response.status, JSON.stringify(body)).to.equal(400);
        return response.body.details[0].path as string;
      };
      expect(await path({ name: 'x', redirect_uris: ['javascript:alert(1)'] })).to.equal('redirect_uris.0');
      expect(await path({ name: 'x', post_logout_redirect_uris: ['data:text/html,hi'] })).to.equal('post_logout_redirect_uris.0');
      for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'backchannel_logout_uri', 'jwks_uri']) {
        expect(await path({ name: 'x', [field]: 'javascript:alert(1)' }), field).to.equal(field);
        expect(await path({ logo_uri: 'ftp://hr.example.com/logo.png', [field]: 'ftp://x.example.com/' }, 'PATCH', `/clients/${created.body.client_id}`)).to.be.oneOf(['logo_uri', field]);
      }
      expect(await path({ name: 'x', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'] })).to.equal('jwks');
      expect(await path({ name: 'x', type: 'public', token_endpoint_auth_method: 'client_secret_basic' })).to.equal('token_endpoint_auth_method');
      expect(await path({ name: 'x', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })).to.equal('jwks.keys.0');
      expect(await path({ name: 'x', minimal_id_token: 'yes' })).to.equal('minimal_id_token');
      expect(await path({ token_endpoint_auth_method: 'none' }, 'PATCH', `/clients/${created.body.client_id}`)).to.equal('token_endpoint_auth_method');

      const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' };
      const keyed = await call('POST', '/clients', { name: 'Keyed', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [jwk] } });
      expect(keyed.status, JSON.stringify(keyed.body)).to.equal(201);
      expect(keyed.body.client_secret).to.equal(undefined);
      expect(keyed.body).to.deep.include({ token_endpoint_auth_method: 'private_key_jwt', has_secret: false, jwks: { keys: [jwk] } });
      expect((await call('POST', `/clients/${keyed.body.client_id}/secret`)).status).to.equal(400);
    });

    for (const kind of ['roles', 'groups'] as const) {
      it(`${kind}: create, list, assign, remove, delete; 400/404/409`, async () => {
        const user = await call('POST', '/users', { username: `member-${kind}`, password: 'member password 1' });
        expect((await call('POST', `/${kind}`, { name: 'auditors', description: 'read-only' })).status).to.equal(201);
        expect((await call('POST', `/${kind}`, { name: 'auditors' })).status).to.equal(409);
        expect((await call('POST', `/${kind}`, { name: '' })).body.details[0].path).to.equal('name');
        expect((await call('GET', `/${kind}`)).body.map((r: { name: string }) => r.name)).to.include('auditors');
        expect((await call('POST', `/${kind}/auditors/members`, { user_id: user.body.id })).status).to.equal(204);
        expect((await call('GET', `/users/${user.body.id}`)).body[kind]).to.deep.equal(['auditors']);
        expect((await call('POST', `/${kind}/auditors/members`, {})).body.details[0].path).to.equal('user_id');
        expect((await call('POST', `/${kind}/auditors/members`, { user_id: 'nobody' })).status).to.equal(404);
        expect((await call('POST', `/${kind}/nope/members`, { user_id: user.body.id })).status).to.equal(404);
        expect((await call('DELETE', `/${kind}/auditors/members/${user.body.id}`)).status).to.equal(204);
        expect((await call('GET', `/users/${user.body.id}`)).body[kind]).to.deep.equal([]);
        expect((await call('DELETE', `/${kind}/nope/members/${user.body.id}`)).status).to.equal(404);
        // Assigning what the user has, or removing what they do not have, is a 204 that changes
        // nothing (as Keycloak's role mappings answer) — and audits nothing.
        expect((await call('POST', `/${kind}/auditors/members`, { user_id: user.body.id })).status).to.equal(204);
        expect((await call('POST', `/${kind}/auditors/members`, { user_id: user.body.id })).status).to.equal(204);
        expect((await call('DELETE', `/${kind}/auditors/members/${user.body.id}`)).status).to.equal(204);
        expect((await call('DELETE', `/${kind}/auditors/members/${user.body.id}`)).status).to.equal(204);
        expect((await call('GET', `/users/${user.body.id}`)).body[kind]).to.deep.equal([]);
        const one = kind === 'roles' ? 'role' : 'group';
        const changes = (await call('GET', `/audit-events?user=${user.body.id}`)).body.events
          .map((e: { type: string }) => e.type)
          .filter((type: string) => type === `${one}.assigned` || type === `${one}.removed`);
        expect(changes.sort()).to.deep.equal([`${one}.assigned`, `${one}.assigned`, `${one}.removed`, `${one}.removed`]);
        expect((await call('DELETE', `/${kind}/auditors`)).status).to.equal(204);
        expect((await call('DELETE', `/${kind}/auditors`)).status).to.equal(404);
      });
    }

    it('keys: list with status, rotate adds next keys', async () => {
      const listed = await call('GET', '/keys');
      expect(listed.body.keys.every((k: { status: string }) => k.status === 'active')).to.equal(true);
      const rotated = await call('POST', '/keys/rotate');
      expect(rotated.status).to.equal(200);
      expect(rotated.body.rotated).to.equal(true);
      const after = await call('GET', '/keys');
      expect(after.body.keys.filter((k: { status: string }) => k.status === 'next')).to.have.length(rotated.body.keys.length);
      expect(JSON.stringify(after.body)).not.to.match(/"d":/);
    });

    it('audit events: by type, client and time range; bad query → 400 with path', async () => {
      const from = new Date(Date.now() - 60_000).toISOString();
      const byType = await call('GET', `/audit-events?type=keys.rotated&client=${admin.clientId}&from=${encodeURIComponent(from)}`);
      expect(byType.body.events).to.have.length(1);
      expect(byType.body.events[0]).to.deep.include({ type: 'keys.rotated', actor: { type: 'client', id: admin.clientId, username: null }, client: admin.clientId, ip: '127.0.0.1' });
      expect((await call('GET', `/audit-events?type=keys.rotated&to=${encodeURIComponent(from)}`)).body).to.deep.equal({ events: [], next: null });
      expect((await call('GET', '/audit-events?from=yesterday')).body.details[0].path).to.equal('from');
      const unknown = await call('GET', '/audit-events?type=no.such.event');
      expect(unknown.status).to.equal(400);
      expect(unknown.body.details[0].path).to.equal('type');
      expect((await call('GET', '/audit-events?before=2026-01-01T00:00:00Z')).body.details[0].path).to.equal('before');
      // Keyset pages: `next` leads to the older events, none twice.
      const first = await call('GET', '/audit-events?limit=2');
      expect(first.body.events).to.have.length(2);
      const second = await call('GET', `/audit-events?limit=2&before=${first.body.next}`);
      const ids = [...first.body.events, ...second.body.events].map((e: { id: string }) => e.id);
      expect(new Set(ids).size).to.equal(4);
      expect(ids).to.deep.equal([...ids].sort().reverse());
    });

    it('initial access tokens: 400 while registration is off', async () => {
      const response = await call('POST', '/initial-access-tokens', {});
      expect(response.status).to.equal(400);
    });

    it('every 400 and 409 detail names its problem with a stable code and values, the English message kept (the console localizes them)', async () => {
      const problem = async (method: string, path: string, body?: unknown) => {
        const response = await call(method, path, body);
        expect(response.status, JSON.stringify(response.body)).to.be.oneOf([400, 409]);
        expect(response.body.details[0].message, JSON.stringify(response.body)).to.be.a('string').and.not.equal('');
        const { path: field, code, params } = response.body.details[0] as { path: string; code?: string; params?: Record<string, unknown> };
        return { field, code, ...(params === undefined ? {} : { params }) };
      };
      expect(await problem('POST', '/clients', { name: 'x'.repeat(201) })).to.deep.equal({ field: 'name', code: 'too_long', params: { max: 200 } });
      expect(await problem('POST', '/clients', { name: 'Web', redirect_uris: ['myapp:/cb'] })).to.deep.equal({ field: 'redirect_uris.0', code: 'redirect_uri_web_scheme' });
      expect(await problem('POST', '/clients', { name: 'Web', apis: ['https://nowhere.example.com'] })).to.deep.equal({ field: 'apis.0', code: 'unknown_api', params: { identifier: 'https://nowhere.example.com' } });
      expect(await problem('POST', '/clients', { name: 'Web', type: 'public', grant_types: ['client_credentials'] })).to.deep.equal({ field: 'grant_types', code: 'public_no_client_credentials' });
      expect(await problem('POST', '/clients', { name: 'Web', token_endpoint_auth_method: 'magic' })).to.deep.equal({ field: 'token_endpoint_auth_method', code: 'one_of', params: { values: 'client_secret_basic, client_secret_post, private_key_jwt, none' } });
      expect(await problem('POST', '/users', { username: '' })).to.deep.equal({ field: 'username', code: 'empty' });
      expect(await problem('POST', '/users', { username: 'codes-user', password: 'short' })).to.deep.equal({ field: 'password', code: 'password_too_short', params: { limit: 8 } });
      expect(await problem('POST', '/users', { username: 'root' })).to.deep.equal({ field: 'username', code: 'already_in_use' });
      expect(await problem('POST', '/roles', { name: 'two  spaces' })).to.deep.equal({ field: 'name', code: 'name_spacing' });
      expect(await problem('POST', '/groups', { name: 'tab\tname' })).to.deep.equal({ field: 'name', code: 'name_spacing' });
      expect(await problem('POST', '/apis', { identifier: 'relative/path' })).to.deep.equal({ field: 'identifier', code: 'uri_example' });
      expect(await problem('POST', '/apis', { identifier: 'https://codes.example.com', access_token_ttl: 1 })).to.deep.equal({ field: 'access_token_ttl', code: 'too_small', params: { min: 5 } });
      expect(await problem('POST', '/upstream-providers', { preset: 'keycloak', alias: 'kc', client_id: 'x', client_secret: 'y' })).to.deep.equal({ field: 'base_url', code: 'keycloak_realm_url' });
      expect(await problem('POST', '/upstream-providers', { alias: 'Bad Alias', kind: 'oidc' })).to.deep.include({ field: 'alias', code: 'alias' });
      expect(await problem('PATCH', '/settings/password-policy', { password_min_length: 2 })).to.deep.equal({ field: 'password_min_length', code: 'too_small', params: { min: 8 } });
      expect(await problem('PATCH', '/settings/otp', { otp_digits: 7 })).to.deep.equal({ field: 'otp_digits', code: 'one_of', params: { values: '6, 8' } });
      expect(await problem('GET', '/audit-events?type=nope')).to.deep.equal({ field: 'type', code: 'event_type' });
      expect(await problem('POST', '/roles', { name: 'r\u0000' })).to.deep.equal({ field: 'name', code: 'nul_character' });
    });

    // FerretDB on PostgreSQL (jsonb) fails any command with a NUL in a string: refused at the door.
    it('a NUL character in a body field, a query parameter or a path segment is a 400 naming it, never a 500', async () => {
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/users', { username: 'nul-bob', email: 'a\u0000b@example.com' }, 'email'],
        ['POST', '/clients', { name: 'x\u0000', redirect_uris: ['https://app.example.com/cb'] }, 'name'],
        ['POST', '/clients', { name: 'x', redirect_uris: ['https://app.example.com/cb\u0000'] }, 'redirect_uris.0'],
        ['POST', '/roles', { name: 'r\u0000' }, 'name'],
        ['POST', '/lockouts/clear', { subject: 'login:a\u0000' }, 'subject'],
        ['GET', '/users/abc%00', undefined, 'userId'],
        ['GET', '/clients/abc%00', undefined, 'clientId'],
        ['GET', '/apis/abc%00', undefined, 'identifier'],
        ['GET', '/users?q=a%00', undefined, 'q'],
        ['GET', '/audit-events?user=a%00', undefined, 'user'],
      ];
      for (const [method, path, body, field] of cases) {
        const response = await call(method, path, body);
        expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).to.equal(400);
        expect(response.body.error).to.equal('invalid_request');
        expect((response.body.details as Array<{ path: string }>).map((detail) => detail.path), `${method} ${path}`).to.deep.equal([field]);
      }
    });

    it('a deeply nested JSON body is a 400, not a 500 (the NUL check walks it without recursion)', async () => {
      const depth = 20_000;
      const response = await call('POST', '/roles', `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expect(response.status, JSON.stringify(response.body)).to.equal(400);
      expect(response.body.error).to.equal('invalid_request');
    });

    it('unknown admin paths are JSON 404s', async () => {
      const response = await call('GET', '/nothing-here');
      expect(response.status).to.equal(404);
      expect(response.body.error).to.equal('not_found');
    });
  });
});
