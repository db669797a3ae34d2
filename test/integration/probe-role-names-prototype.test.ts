import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin, clientCredentials } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { clientSecretBasic } from '../helpers/client-auth.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): a role `<client>:<role>` goes under Keycloak's `resource_access.<client>.roles`.
 * A client part named after an Object.prototype member (`toString:viewer`, `constructor:x`,
 * `__proto__:x`) — a role any operator may create or hand out as a default role (default_roles:
 * every new user then holds it), or a Keycloak client's role — must land there as its own member,
 * not break every Keycloak-claims token of the user (or of a service account) with a 500.
 */
describe('probe: roles whose client part is an Object.prototype member, in Keycloak-shaped tokens', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);
  const ROLES = ['toString:viewer', 'constructor:editor', '__proto__:owner', 'hasOwnProperty:reader', 'app:reader', 'plain'];
  // Built from entries: a `__proto__` key in an object literal would set its prototype instead.
  const EXPECTED = Object.fromEntries([['toString', ['viewer']], ['constructor', ['editor']], ['__proto__', ['owner']], ['hasOwnProperty', ['reader']], ['app', ['reader']]]);

  before(async () => {
    deploy = await deployment('probe_roleproto');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  /** resource_access as its JSON text says it (own members only, whatever the parser makes of __proto__). */
  function resourceAccessOf(json: string): Record<string, string[]> {
    const text = JSON.parse(json, (key, value: unknown) => (key === '__proto__' ? { __proto_text__: value } : value)) as { resource_access?: Record<string, { roles: string[] } | { __proto_text__: { roles: string[] } }> };
    const access = text.resource_access ?? {};
    return Object.fromEntries(
      Object.keys(access).map((client) => {
        const entry = access[client]!;
        return client === '__proto__' ? [client, (entry as { __proto_text__: { roles: string[] } }).__proto_text__.roles] : [client, (entry as { roles: string[] }).roles];
      }),
    );
  }

  it("a user given such roles as default roles signs in to a Keycloak-claims app: tokens issued, each role under its client in resource_access", async () => {
    const settings = await call('PATCH', '/settings/sign-in', { default_roles: ROLES });
    expect(settings.status, JSON.stringify(settings.body)).to.equal(200);
    const user = await call('POST', '/users', { username: 'roleproto', password: PASSWORD });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    expect(user.body.roles).to.include.members(ROLES);
    const client = await call('POST', '/clients', { name: 'Keycloak-shaped app', redirect_uris: [REDIRECT_URI], first_party: true, token_claims: 'keycloak' });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, client.body.client_id as string, client.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope: 'openid' });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username: 'roleproto', password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    const idPayload = Buffer.from(tokens.id_token!.split('.')[1]!, 'base64url').toString('utf8');
    expect(resourceAccessOf(idPayload)).to.deep.equal(EXPECTED);
    expect((decodeJwt(tokens.id_token!).realm_access as { roles: string[] }).roles).to.include('plain');
    const userinfo = await fetch(`${gatehouse.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).to.be.below(500);
  });

  it('a service account holding such roles gets client_credentials tokens with them under resource_access', async () => {
    const client = await call('POST', '/clients', { name: 'Worker', grant_types: ['client_credentials'], token_claims: 'keycloak', service_account_roles: ROLES });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    const issued = await clientCredentials(gatehouse.url, client.body.client_id as string, client.body.client_secret as string);
    expect(issued.status, JSON.stringify(issued.body)).to.equal(200);
    const introspection = await fetch(`${gatehouse.url}/token/introspection`, {
      method: 'POST',
      headers: { authorization: clientSecretBasic(client.body.client_id as string, client.body.client_secret as string), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued.body.access_token as string }).toString(),
    });
    expect(introspection.status).to.equal(200);
    expect(resourceAccessOf(await introspection.text())).to.deep.equal(EXPECTED);
  });
});
