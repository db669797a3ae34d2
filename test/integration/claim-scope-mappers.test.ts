import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/**
 * Claim scope mappers as a Keycloak user sets them up: nested claim names (`org.unit`, `\.` a
 * literal dot), a user attribute's JSON type (`"true"` → `true`), and the introspection flag
 * apart from the access token's — each seen by a real relying party (openid-client) in the ID
 * token, userinfo, the JWT access token and the introspection answers.
 */
describe('claim scopes: nested names, JSON types and the introspection flag in the tokens', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const username = `cm${Math.random().toString(36).slice(2, 8)}`;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const paths = (body: { details?: Array<{ path: string; code?: string }> }) => (body.details ?? []).map((detail) => `${detail.path}: ${detail.code}`);
  let client: { clientId: string; secret: string };

  before(async () => {
    deploy = await deployment('claim_scope_mappers');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    const attributes = { unit: 'eng', city: 'Berlin', admin: 'true', level: '3', bad_level: 'high', prefs: '{"theme":"dark","size":2}', codes: ['1', 'x', '3'], team: 'blue' };
    const created = await call('POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true, attributes });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const scope = await call('POST', '/claim-scopes', {
      name: 'org',
      mappers: [
        { type: 'user_attribute', attribute: 'unit', claim: 'org.unit' },
        { type: 'user_attribute', attribute: 'city', claim: 'org.site.city' },
        { type: 'hardcoded', claim: 'org.tenant', value: 'acme' },
        { type: 'user_attribute', attribute: 'team', claim: 'https://example\\.com/team' },
        { type: 'user_attribute', attribute: 'admin', claim: 'is_admin', json_type: 'boolean' },
        { type: 'user_attribute', attribute: 'level', claim: 'level', json_type: 'int' },
        { type: 'user_attribute', attribute: 'bad_level', claim: 'bad_level', json_type: 'int' },
        { type: 'user_attribute', attribute: 'prefs', claim: 'prefs', json_type: 'json' },
        { type: 'user_attribute', attribute: 'codes', claim: 'codes', json_type: 'long', multivalued: true },
        { type: 'user_attribute', attribute: 'unit', claim: 'seen', access_token: false, introspection: true },
        { type: 'user_attribute', attribute: 'unit', claim: 'jwt_only', introspection: false },
        { type: 'user_attribute', attribute: 'unit', claim: 'hidden', access_token: false, introspection: false },
      ],
    });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    const registered = await call('POST', '/clients', { name: 'Org app', redirect_uris: [REDIRECT_URI], scope: 'openid email org', apis: [API], first_party: true });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    client = { clientId: registered.body.client_id as string, secret: registered.body.client_secret as string };
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function signInTokens(extra: Record<string, string>) {
    const config = await relyingParty(deploy.issuer, client.clientId, client.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks, extra.resource === undefined ? undefined : { resource: extra.resource });
    return { config, tokens, id: decodeJwt(tokens.id_token!) as Record<string, unknown> };
  }

  const everywhere = { org: { unit: 'eng', site: { city: 'Berlin' }, tenant: 'acme' }, 'https://example.com/team': 'blue', is_admin: true, level: 3, prefs: { theme: 'dark', size: 2 }, codes: [1, 3] };

  it('the admin API shows the new fields and refuses what Gatehouse cannot put in a token, naming the mapper', async () => {
    const shown = (await call('GET', '/claim-scopes/org')).body as { mappers: Array<Record<string, unknown>> };
    expect(shown.mappers[0]).to.include({ claim: 'org.unit', json_type: 'string', introspection: true });
    expect(shown.mappers[2]).to.include({ claim: 'org.tenant', json_type: null });
    expect(shown.mappers[9]).to.include({ claim: 'seen', access_token: false, introspection: true });
    const refused = await call('POST', '/claim-scopes', {
      name: 'bad',
      mappers: [
        { type: 'hardcoded', claim: 'address.street', value: 'x' },
        { type: 'hardcoded', claim: 'a..b', value: 'x' },
        { type: 'user_attribute', attribute: 'unit', claim: 'n', json_type: 'double' },
      ],
    });
    expect(refused.status).to.equal(400);
    expect(paths(refused.body)).to.have.members(['mappers.0.claim: reserved_claim_name', 'mappers.1.claim: mapped_claim_name', 'mappers.2.json_type: one_of']);
    const overlapping = await call('POST', '/claim-scopes', { name: 'bad', mappers: [{ type: 'hardcoded', claim: 'x.y', value: 'x' }, { type: 'hardcoded', claim: 'x', value: 'x' }] });
    expect(paths(overlapping.body)).to.deep.equal(['mappers.1.claim: claim_overlaps']);
    // Another scope may not fill the object of this one.
    const taken = await call('POST', '/claim-scopes', { name: 'other', mappers: [{ type: 'hardcoded', claim: 'org.extra', value: 'x' }] });
    expect(paths(taken.body)).to.deep.equal(['mappers.0.claim: claim_taken']);
    const discovery = (await (await fetch(`${deploy.issuer}/.well-known/openid-configuration`)).json()) as { claims_supported: string[] };
    expect(discovery.claims_supported).to.include.members(['org', 'https://example.com/team', 'is_admin']);
    expect(discovery.claims_supported).not.to.include('org.unit');
  });

  it('ID token and userinfo: nested objects, typed values; a value that does not convert is left out', async () => {
    const { config, tokens, id } = await signInTokens({ scope: 'openid org' });
    expect(id).to.deep.include({ ...everywhere, seen: 'eng', jwt_only: 'eng', hidden: 'eng' });
    expect(id).not.to.have.property('bad_level');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.deep.include(everywhere);
    expect(userinfo).not.to.have.property('bad_level');
    // Opaque access token: introspection shows what goes there, not what goes to the JWT only.
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.deep.include({ active: true, ...everywhere, seen: 'eng' });
    expect(introspected).not.to.have.any.keys('jwt_only', 'hidden', 'bad_level');
  });

  it('a JWT access token carries its own claims, its introspection its own; also after a refresh', async () => {
    const { config, tokens } = await signInTokens({ scope: 'openid org read', resource: API });
    const jwt = decodeJwt(tokens.access_token) as Record<string, unknown>;
    expect(jwt).to.deep.include({ aud: API, ...everywhere, jwt_only: 'eng' });
    expect(jwt).not.to.have.any.keys('seen', 'hidden', 'bad_level');
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.deep.include({ active: true, ...everywhere, seen: 'eng' });
    expect(introspected).not.to.have.any.keys('jwt_only', 'hidden');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: API });
    const again = decodeJwt(refreshed.access_token) as Record<string, unknown>;
    expect(again).to.deep.include({ ...everywhere, jwt_only: 'eng' });
    expect(again).not.to.have.any.keys('seen', 'hidden');
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).to.deep.include({ seen: 'eng', org: everywhere.org });
  });

  it('a mapper stored before the introspection flag follows its access_token setting (Keycloak\'s rule)', async () => {
    const model = gatehouse.services.claimScopes;
    // As an earlier version wrote it: no introspection member.
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await mongo.collection<{ _id: string }>('claim_scopes').updateOne({ _id: 'org' }, { $unset: { 'mappers.9.introspection': '', 'mappers.10.introspection': '' } });
    } finally {
      await mongo.close();
    }
    await model.reload();
    const mappers = (await model.get('org'))!.mappers;
    expect(mappers[9]).to.include({ claim: 'seen', accessToken: false, introspection: false });
    expect(mappers[10]).to.include({ claim: 'jwt_only', accessToken: true, introspection: true });
  });

  it('CLI: --json-type CLAIM=TYPE, nested claim names and introspection in --into', async () => {
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer };
    const created = await runCli(['claim-scopes', 'create', 'ranks', '--map', 'level=rank.level', '--map', 'admin=rank.admin', '--json-type', 'rank.level=int', '--json-type', 'rank.admin=boolean', '--into', 'id_token,introspection', '--json'], env);
    expect(created.code, created.stderr).to.equal(0);
    const shown = JSON.parse(created.stdout) as { mappers: Array<Record<string, unknown>> };
    expect(shown.mappers.map((mapper) => [mapper.claim, mapper.json_type, mapper.id_token, mapper.access_token, mapper.introspection, mapper.userinfo])).to.deep.equal([
      ['rank.level', 'int', true, false, true, false],
      ['rank.admin', 'boolean', true, false, true, false],
    ]);
    const unknownClaim = await runCli(['claim-scopes', 'update', 'ranks', '--map', 'level', '--json-type', 'other=int'], env);
    expect(unknownClaim.code).to.equal(2);
    expect(unknownClaim.stderr).to.match(/--json-type "other=int": expected CLAIM=TYPE/);
    const badType = await runCli(['claim-scopes', 'update', 'ranks', '--map', 'level', '--json-type', 'level=double'], env);
    expect(badType.code).not.to.equal(0);
    expect(badType.stderr).to.match(/--map 'level': must be one of string, long, int, boolean, json/);
    const badInto = await runCli(['claim-scopes', 'update', 'ranks', '--map', 'level', '--into', 'id_token,lightweight'], env);
    expect(badInto.code).to.equal(2);
    expect(badInto.stderr).to.include('introspection');
  });
});
