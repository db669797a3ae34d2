import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, PASSWORD, REDIRECT_URI, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe22): a claim mapper may read an attribute named after a member of Object.prototype
 * (`toString`, `hasOwnProperty`, `constructor`): the mapper's attribute name passes the name rule.
 * A user who lacks such an attribute must get no claim for it — not the inherited function, and
 * never a 500 from the token endpoint or userinfo.
 */
describe('probe: a claim mapper reading an attribute named after an Object.prototype member', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const call = (method: string, path: string, body?: unknown) => callAdmin(gatehouse.url, token, method, path, body);

  before(async () => {
    deploy = await deployment('probe_proto');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  async function tokensFor(username: string, scope: string) {
    const client = await call('POST', '/clients', { name: 'Proto app', redirect_uris: [REDIRECT_URI], scope, first_party: true });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, client.body.client_id as string, client.body.client_secret as string);
    const request = await authorizationRequest(config, REDIRECT_URI, { scope });
    const { callback } = await signIn(new UserAgent(), request.url.href, REDIRECT_URI, { username, password: PASSWORD });
    const tokens = await oidc.authorizationCodeGrant(config, callback, request.checks);
    return { config, tokens, id: decodeJwt(tokens.id_token!) as Record<string, unknown> };
  }

  it('a user without an attribute named after an Object.prototype member gets no claim for it, and the token endpoint and userinfo answer', async () => {
    const scope = await call('POST', '/claim-scopes', {
      name: 'protonames',
      mappers: [
        { type: 'user_attribute', attribute: 'constructor', claim: 'ctor_list', multivalued: true },
        { type: 'user_attribute', attribute: 'toString', claim: 'to_string' },
        { type: 'user_attribute', attribute: 'hasOwnProperty', claim: 'own_list', multivalued: true },
        { type: 'user_attribute', attribute: 'department', claim: 'department' },
      ],
    });
    expect(scope.status, JSON.stringify(scope.body)).to.equal(201);
    const user = await call('POST', '/users', { username: 'protoless', password: PASSWORD, attributes: { department: 'eng' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);

    const { config, tokens, id } = await tokensFor('protoless', 'openid protonames');
    expect(id).to.include({ department: 'eng' });
    expect(id).not.to.have.any.keys('ctor_list', 'to_string', 'own_list');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).to.include({ department: 'eng' });
    expect(userinfo).not.to.have.any.keys('ctor_list', 'to_string', 'own_list');
  });
});
