import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, oauthError, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/**
 * Claim scopes (Keycloak client scopes with User Attribute / Hardcoded claim mappers): a custom
 * attribute set through the admin API reaches the ID token, userinfo, the JWT access token and
 * introspection of a client that asked for the scope — and no token of a client that did not.
 */
describe('claim scopes: custom attributes into tokens', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const username = `cs${Math.random().toString(36).slice(2, 8)}`;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const paths = (body: { details?: Array<{ path: string; code?: string }> }) => (body.details ?? []).map((detail) => `${detail.path}: ${detail.code}`);

  before(async () => {
    deploy = await deployment('claim_scopes');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    const created = await call('POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true, attributes: { department: 'eng', langs: ['en', 'fr'] } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function createClient(scope: string) {
    const { status, body } = await call('POST', '/clients', { name: 'HR app', redirect_uris: [REDIRECT_URI], scope, apis: [API], first_party: true });
    expect(status, JSON.stringify(body)).to.equal(201);
    return { clientId: body.client_id as string, secret: body.client_secret as string };
  }

  async function signInTokens(client: { clientId: string; secret: string }, extra: Record<string, string> = {}) {
    const config = await relyingParty(deploy.issuer, client.clientId, client.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks, extra.resource === undefined ? undefined : { resource: extra.resource });
    return { config, tokens, id: decodeJwt(tokens.id_token!) as Record<string, unknown> };
  }

  it('refuses reserved claim names, a claim another scope gives, standard scope names, and broken descriptions (400 naming the field)', async () => {
    const reserved = await call('POST', '/claim-scopes', { name: 'bad', mappers: [{ type: 'user_attribute', attribute: 'department', claim: 'sub' }, { type: 'hardcoded', claim: 'email', value: 'x' }, { type: 'hardcoded', claim: 'Roles', value: 'x' }] });
    expect(reserved.status).to.equal(400);
    expect(paths(reserved.body)).to.have.members(['mappers.0.claim: reserved_claim_name', 'mappers.1.claim: reserved_claim_name', 'mappers.2.claim: reserved_claim_name']);
    for (const claim of ['iss', 'aud', 'exp', 'iat', 'acr', 'amr', 'sid', 'auth_time', 'nonce', 'azp', 'groups', 'scope', 'client_id']) {
      const refused = await call('POST', '/claim-scopes', { name: 'bad', mappers: [{ type: 'hardcoded', claim, value: 'x' }] });
      expect(paths(refused.body), claim).to.deep.equal(['mappers.0.claim: reserved_claim_name']);
    }
    const standard = await call('POST', '/claim-scopes', { name: 'profile' });
    expect(paths(standard.body)).to.deep.equal(['name: reserved_scope_name']);
    const override = await call('POST', '/claim-scopes', { name: 'bad', description: { en: 'See \u202Eevil' } });
    expect(paths(override.body)).to.deep.equal(['description.en: hidden_character']);
    const twice = await call('POST', '/claim-scopes', { name: 'bad', mappers: [{ type: 'hardcoded', claim: 'x', value: 'a' }, { type: 'hardcoded', claim: 'x', value: 'b' }] });
    expect(paths(twice.body)).to.deep.equal(['mappers.1.claim: claim_twice']);
    expect((await call('GET', '/claim-scopes')).body).to.deep.equal([]);
  });

  it('a client that asks for the scope gets the mapped claims in the ID token, userinfo, the JWT access token and introspection; one that does not, none', async () => {
    const created = await call('POST', '/claim-scopes', {
      name: 'department',
      description: { en: 'See your department', ru: 'Видеть ваш отдел' },
      mappers: [
        { type: 'user_attribute', attribute: 'department', claim: 'department' },
        { type: 'user_attribute', attribute: 'langs', claim: 'languages', multivalued: true, id_token: false },
        { type: 'hardcoded', claim: 'tenant', value: 'acme', userinfo: false, access_token: false },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.mappers[1]).to.include({ claim: 'languages', attribute: 'langs', multivalued: true, id_token: false, access_token: true, userinfo: true });
    const taken = await call('POST', '/claim-scopes', { name: 'other', mappers: [{ type: 'hardcoded', claim: 'tenant', value: 'x' }] });
    expect(paths(taken.body)).to.deep.equal(['mappers.0.claim: claim_taken']);

    const discovery = (await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[]; claims_supported: string[] };
    expect(discovery.scopes_supported).to.include('department');
    expect(discovery.claims_supported).to.include.members(['department', 'languages', 'tenant']);

    const asking = await createClient('openid profile email department');
    const { config, tokens, id } = await signInTokens(asking, { scope: 'openid email department' });
    expect(id).to.include({ department: 'eng', tenant: 'acme' });
    expect(id).not.to.have.property('languages');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.include({ department: 'eng' });
    expect(userinfo.languages).to.deep.equal(['en', 'fr']);
    expect(userinfo).not.to.have.property('tenant');
    // Opaque access token: introspection shows the access-token claims.
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.include({ active: true, department: 'eng' });
    expect(introspected.languages).to.deep.equal(['en', 'fr']);
    expect(introspected).not.to.have.property('tenant');

    // A JWT access token for an API carries them; so does its introspection, and a refreshed one.
    const forApi = await signInTokens(asking, { scope: 'openid department read', resource: API });
    const jwt = decodeJwt(forApi.tokens.access_token);
    expect(jwt).to.include({ aud: API, department: 'eng' });
    expect(jwt.languages).to.deep.equal(['en', 'fr']);
    expect(jwt).not.to.have.property('tenant');
    const jwtIntrospected = await oidc.tokenIntrospection(forApi.config, forApi.tokens.access_token);
    expect(jwtIntrospected).to.include({ active: true, department: 'eng' });
    const refreshed = await oidc.refreshTokenGrant(forApi.config, forApi.tokens.refresh_token!, { resource: API });
    expect(decodeJwt(refreshed.access_token)).to.include({ department: 'eng' });
    // The API alone (no claim scope asked): nothing.
    const apiOnly = await signInTokens(asking, { scope: 'openid read', resource: API });
    expect(decodeJwt(apiOnly.tokens.access_token)).not.to.have.any.keys('department', 'languages');

    // A client that does not ask for the scope: none of the claims anywhere, not even by the claims parameter.
    const other = await createClient('openid profile email');
    const plain = await signInTokens(other, { claims: JSON.stringify({ userinfo: { department: null }, id_token: { department: null } }) });
    expect(plain.id).not.to.have.any.keys('department', 'languages', 'tenant');
    const plainInfo = await oidc.fetchUserInfo(plain.config, plain.tokens.access_token, oidc.skipSubjectCheck);
    expect(plainInfo).not.to.have.any.keys('department', 'languages', 'tenant');
    expect(await oidc.tokenIntrospection(plain.config, plain.tokens.access_token)).not.to.have.any.keys('department', 'languages');
  });

  it('the password grant gives a claim scope the mapped claims as the code flow does; an unknown scope is still refused', async () => {
    const passwordClient = async (scope: string) => {
      const created = await gatehouse.services.clients.create({
        displayName: 'HR gateway',
        firstParty: true,
        allowedApis: [API],
        metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true, scope },
      });
      return relyingParty(deploy.issuer, created.client.clientId, created.secret!);
    };
    const grant = (config: oidc.Configuration, params: Record<string, string>) => oidc.genericGrantRequest(config, 'password', { username, password: PASSWORD, ...params });
    const gateway = await passwordClient('openid email department');

    const tokens = await grant(gateway, { scope: 'openid email department' });
    expect(tokens.scope).to.equal('openid email department');
    const id = decodeJwt(tokens.id_token!);
    expect(id).to.include({ department: 'eng', tenant: 'acme' });
    expect(id).not.to.have.property('languages');
    const userinfo = await oidc.fetchUserInfo(gateway, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.include({ department: 'eng' });
    expect(userinfo.languages).to.deep.equal(['en', 'fr']);
    expect(userinfo).not.to.have.property('tenant');
    expect(await oidc.tokenIntrospection(gateway, tokens.access_token)).to.include({ active: true, department: 'eng' });
    const refreshed = await oidc.refreshTokenGrant(gateway, tokens.refresh_token!);
    expect(decodeJwt(refreshed.id_token!)).to.include({ department: 'eng' });

    // For an API: the JWT access token carries them beside the API's scope.
    const forApi = await grant(gateway, { scope: 'openid department read', resource: API });
    const jwt = decodeJwt(forApi.access_token);
    expect(jwt).to.include({ aud: API, department: 'eng', scope: 'read' });
    expect(jwt.languages).to.deep.equal(['en', 'fr']);

    // An unknown scope: refused as before (no resource) and as an API's unknown scope (with one).
    const unknown = await oauthError(grant(gateway, { scope: 'openid nosuch' }));
    expect(unknown.error).to.equal('invalid_scope');
    expect((await oauthError(grant(gateway, { scope: 'openid department nosuch', resource: API }))).error).to.equal('invalid_scope');
    // A client whose scope metadata does not list it gets none of its claims (as with a standard scope it may not have).
    const narrow = await passwordClient('openid email');
    const plain = await grant(narrow, { scope: 'openid email department' });
    expect(plain.scope).to.equal('openid email');
    expect(decodeJwt(plain.id_token!)).not.to.have.any.keys('department', 'languages', 'tenant');
    expect(await oidc.fetchUserInfo(narrow, plain.access_token, oidc.skipSubjectCheck)).not.to.have.any.keys('department', 'languages', 'tenant');
  });

  it('a client whose scope metadata does not allow it is refused the scope; deleting the scope takes it off clients', async () => {
    const restricted = await createClient('openid profile');
    const config = await relyingParty(deploy.issuer, restricted.clientId, restricted.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid department' });
    const response = await fetch(request.url, { redirect: 'manual' });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).to.equal('invalid_scope');

    const holder = await createClient('openid department');
    const deleted = await call('DELETE', '/claim-scopes/department');
    expect(deleted.status).to.equal(204);
    expect((await call('GET', `/clients/${encodeURIComponent(holder.clientId)}`)).body.scope).to.equal('openid');
    const discovery = (await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[] };
    expect(discovery.scopes_supported).not.to.include('department');
    expect((await call('GET', '/claim-scopes/department')).status).to.equal(404);
  });

  it('CLI: claim-scopes create / list / update / delete; OpenAPI documents them', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer };
    const created = await runCli(['claim-scopes', 'create', 'hr', '--description', 'See your HR data', '--map', 'department', '--map-list', 'langs=languages', '--hardcoded', 'tenant=acme', '--into', 'id_token,userinfo', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    const shown = JSON.parse(created.stdout);
    expect(shown.mappers.map((mapper: { claim: string }) => mapper.claim)).to.deep.equal(['department', 'languages', 'tenant']);
    expect(shown.mappers[0]).to.include({ id_token: true, userinfo: true, access_token: false });
    const bad = await runCli(['claim-scopes', 'update', 'hr', '--hardcoded', 'sub=x'], env);
    expect(bad.code, bad.stderr).not.to.equal(0);
    expect(bad.stderr).to.match(/reserved|standard or protocol claim/);
    const listed = await runCli(['claim-scopes', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout).map((scope: { name: string }) => scope.name)).to.deep.equal(['hr']);
    const removed = await runCli(['claim-scopes', 'delete', 'hr', '--json'], env);
    expect(removed.code, removed.stderr).to.equal(0);
    const openapi = (await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json')).body;
    expect(openapi.paths['/claim-scopes'].post.requestBody.content['application/json'].schema.properties).to.have.keys('name', 'description', 'mappers');
  });
});
