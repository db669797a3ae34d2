import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { API, authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { NOTICE_MS, within } from '../helpers/poll.ts';
import { runCli } from '../helpers/process.ts';

/**
 * `token_claims: keycloak` on a client: its tokens carry Keycloak's claims whatever API they are
 * for (APIs keep their own `token_claims` too). Set through the admin API, the CLI and the
 * Keycloak import (test/integration/keycloak-import.test.ts checks the import's mapping).
 */
describe('Keycloak claims per client (admin API, OpenAPI, CLI, tokens)', function () {
  this.timeout(60_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let username: string;
  let userId: string;

  before(async () => {
    deploy = await deployment('keycloak_client_claims');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    // An API with Gatehouse's own claims (roles only): the client's setting decides the shape.
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true });
    username = `kc${Math.random().toString(36).slice(2, 8)}`;
    const user = await gatehouse.services.accounts.createUser({
      username,
      password: PASSWORD,
      email: `${username}@example.com`,
      emailVerified: true,
      givenName: 'Kay',
      roles: ['editor', 'orders-api:orders.read'],
      groups: ['/staff'],
    });
    userId = user.id;
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function createClient(extra: Record<string, unknown>) {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/clients', {
      name: 'Keycloak app',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      scope: 'openid profile email',
      apis: [API],
      first_party: true,
      ...extra,
    });
    expect(status, JSON.stringify(body)).to.equal(201);
    return { clientId: body.client_id as string, secret: body.client_secret as string, body };
  }

  async function signInTokens(client: { clientId: string; secret: string }, extra: Record<string, string> = {}) {
    const config = await relyingParty(deploy.issuer, client.clientId, client.secret);
    const request = await authorizationRequest(config, REDIRECT_URI, extra);
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks, extra.resource === undefined ? undefined : { resource: extra.resource });
    return { config, tokens, id: decodeJwt(tokens.id_token!) as Record<string, unknown> };
  }

  it('the admin API takes token_claims, shows it, refuses other values naming the field; OpenAPI documents it', async () => {
    const { body } = await createClient({ token_claims: 'keycloak' });
    expect(body.token_claims).to.equal('keycloak');
    const plain = await createClient({});
    expect(plain.body.token_claims).to.equal('gatehouse');
    const refused = await callAdmin(gatehouse.url, token, 'PATCH', `/clients/${encodeURIComponent(plain.clientId)}`, { token_claims: 'okta' });
    expect(refused.status).to.equal(400);
    expect(JSON.stringify(refused.body)).to.include('token_claims');
    const openapi = (await callAdmin(gatehouse.url, undefined, 'GET', '/openapi.json')).body;
    const create = openapi.paths['/clients'].post.requestBody.content['application/json'].schema;
    const update = openapi.paths['/clients/{clientId}'].patch.requestBody.content['application/json'].schema;
    expect(create.properties.token_claims.enum).to.deep.equal(['gatehouse', 'keycloak']);
    expect(JSON.stringify(update.properties.token_claims)).to.include('keycloak');
  });

  it('a client with Keycloak claims gets them in its ID token and in JWT access tokens for any API', async () => {
    const client = await createClient({ token_claims: 'keycloak' });
    const { tokens, id } = await signInTokens(client, { resource: API });
    expect(id).to.include({ sub: userId, azp: client.clientId, preferred_username: username });
    expect(id.realm_access).to.deep.equal({ roles: ['editor'] });
    expect(id.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
    const access = decodeJwt(tokens.access_token);
    expect(access).to.include({ aud: API, typ: 'Bearer', azp: client.clientId, preferred_username: username, email: `${username}@example.com`, given_name: 'Kay' });
    expect(access.realm_access).to.deep.equal({ roles: ['editor'] });
    expect(access.resource_access).to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
    expect(access.groups).to.deep.equal(['/staff']);

    // Opaque access token (no API): introspection shows the same claims.
    const opaque = await signInTokens(client);
    const introspected = await oidc.tokenIntrospection(opaque.config, opaque.tokens.access_token);
    expect(introspected).to.include({ active: true, typ: 'Bearer', azp: client.clientId, preferred_username: username });
    expect(introspected.realm_access).to.deep.equal({ roles: ['editor'] });

    // No user: client_credentials tokens name the client as Keycloak's service-account tokens do.
    const service = await clientCredentials(gatehouse.url, client.clientId, client.secret, { resource: API });
    expect(service.status, JSON.stringify(service.body)).to.equal(200);
    expect(decodeJwt(service.body.access_token as string)).to.include({ typ: 'Bearer', azp: client.clientId });
  });

  it('a client without the setting gets none of them (the API’s own claims only)', async () => {
    const client = await createClient({});
    const { tokens, id } = await signInTokens(client, { resource: API });
    for (const claim of ['azp', 'realm_access', 'resource_access']) expect(id, claim).to.not.have.property(claim);
    const access = decodeJwt(tokens.access_token);
    for (const claim of ['typ', 'azp', 'realm_access', 'resource_access', 'preferred_username']) expect(access, claim).to.not.have.property(claim);
    expect(access.roles).to.deep.equal(['editor', 'orders-api:orders.read']);
  });

  it('userinfo takes a Keycloak-claims JWT for an API (as Keycloak does), until it is revoked; other API tokens stay refused there', async () => {
    const client = await createClient({ token_claims: 'keycloak' });
    const { config, tokens } = await signInTokens(client, { resource: API });
    expect(decodeJwt(tokens.access_token).aud).to.equal(API);
    const userinfo = async (accessToken: string) => {
      const response = await fetch(`${deploy.issuer}/me`, { headers: { authorization: `bearer ${accessToken}`, accept: 'application/json' } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const first = await userinfo(tokens.access_token);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    // The grant's OpenID scopes decide the claims, as for any access token.
    expect(first.body).to.include({ sub: userId, preferred_username: username, email: `${username}@example.com`, given_name: 'Kay' });
    expect((await userinfo(tokens.access_token)).body).to.deep.equal(first.body);

    await oidc.tokenRevocation(config, tokens.access_token);
    const revoked = await userinfo(tokens.access_token);
    expect(revoked.status).to.equal(401);
    expect(revoked.body.error).to.equal('invalid_token');

    const plain = await signInTokens(await createClient({}), { resource: API });
    const refused = await userinfo(plain.tokens.access_token);
    expect(refused.status).to.equal(401);
    expect(refused.body).to.include({ error: 'invalid_token', error_description: 'invalid token provided' });
  });

  it('the CLI sets and clears it: clients update ID --token-claims keycloak / --unset token_claims', async () => {
    const client = await createClient({});
    const env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
    const set = await runCli(['clients', 'update', client.clientId, '--token-claims', 'keycloak', '--json'], env);
    expect(set.code, set.stderr).to.equal(0);
    expect(JSON.parse(set.stdout).token_claims).to.equal('keycloak');
    expect((await signInTokens(client)).id.azp).to.equal(client.clientId);
    const cleared = await runCli(['clients', 'update', client.clientId, '--unset', 'token_claims', '--json'], env);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(JSON.parse(cleared.stdout).token_claims).to.equal('gatehouse');
    // The running instance drops its cached client when the CLI's change notice arrives (Redis pub/sub).
    await within(NOTICE_MS, async () => !('azp' in (await signInTokens(client)).id));
  });
});
