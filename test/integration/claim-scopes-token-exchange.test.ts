import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, oauthError, PASSWORD, relyingParty, type Deployment } from '../helpers/e2e.ts';

const ORDERS = 'https://orders.example.com';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Token exchange (RFC 8693) and claim scopes, as at the code flow: an exchange may ask for a claim
 * scope beside the target API's scopes — one the user allowed the subject token's client and the
 * exchanging client may ask for — and its token then carries the mapped claims, as an API token of
 * the code flow does. Never widened: a claim scope the subject's grant lacks, or one the exchanging
 * client may not ask for, is invalid_scope.
 */
describe('token exchange with claim scopes (openid-client)', function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let gateway: oidc.Configuration;
  let gatewayId: string;
  const username = `tx${Math.random().toString(36).slice(2, 8)}`;

  const signIn = (scope: string, resource = API) => oidc.genericGrantRequest(gateway, 'password', { username, password: PASSWORD, scope, resource });
  const exchange = (config: oidc.Configuration, subjectToken: string, params: Record<string, string> = {}) =>
    oidc.genericGrantRequest(config, EXCHANGE, { subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, resource: ORDERS, ...params });
  const exchanger = async (scope?: string, trusted?: string) => {
    const created = await gatehouse.services.clients.create({
      displayName: 'Orders caller',
      allowedApis: [ORDERS],
      metadata: {
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        token_exchange: { apis: [ORDERS], trusted_clients: [trusted ?? gatewayId] },
        ...(scope === undefined ? {} : { scope }),
      },
    });
    return Object.assign(await relyingParty(deploy.issuer, created.client.clientId, created.secret), { id: created.client.clientId });
  };

  before(async () => {
    deploy = await deployment('claim_scopes_exchange');
    gatehouse = await deploy.start();
    const token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'] });
    await gatehouse.services.apis.create({ identifier: ORDERS, scopes: ['read', 'write'] });
    const user = await callAdmin(gatehouse.url, token, 'POST', '/users', { username, password: PASSWORD, email: `${username}@example.com`, email_verified: true, attributes: { department: 'eng', level: '3' } });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    for (const [name, mappers] of [
      ['department', [{ type: 'user_attribute', attribute: 'department', claim: 'org.department' }]],
      ['clearance', [{ type: 'user_attribute', attribute: 'level', claim: 'level', json_type: 'int' }]],
    ] as const) {
      const created = await callAdmin(gatehouse.url, token, 'POST', '/claim-scopes', { name, mappers });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
    }
    const gw = await gatehouse.services.clients.create({
      displayName: 'Gateway',
      firstParty: true,
      allowedApis: [API],
      metadata: { redirect_uris: [], response_types: [], grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_basic', allow_password_grant: true, scope: 'openid department clearance' },
    });
    gatewayId = gw.client.clientId;
    gateway = await relyingParty(deploy.issuer, gatewayId, gw.secret);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a subject token granted with a claim scope: the exchange asking for it carries the claims; one not asking, none', async () => {
    const subject = await signIn('openid department read');
    expect(decodeJwt(subject.access_token)).to.deep.include({ org: { department: 'eng' } });
    const caller = await exchanger();
    const asked = await exchange(caller, subject.access_token, { scope: 'read department' });
    const jwt = decodeJwt(asked.access_token);
    expect(jwt).to.deep.include({ aud: ORDERS, scope: 'read', org: { department: 'eng' } });
    expect(asked.scope).to.equal('read');
    expect(await oidc.tokenIntrospection(caller, asked.access_token)).to.deep.include({ active: true, org: { department: 'eng' } });
    // Only the claim scope: every scope of the API the ceiling leaves, and the claims.
    const only = decodeJwt((await exchange(caller, subject.access_token, { scope: 'department' })).access_token);
    expect(only).to.deep.include({ scope: 'read write', org: { department: 'eng' } });
    // Not asked for: none (as at the code flow, a claim scope's claims go to requests that name it).
    expect(decodeJwt((await exchange(caller, subject.access_token, { scope: 'read' })).access_token)).not.to.have.property('org');
    // An exchanged token exchanged again (by a client that trusts the first) keeps what its grant holds, never more.
    const next = await exchanger(undefined, caller.id);
    const again = decodeJwt((await exchange(next, asked.access_token, { scope: 'read department' })).access_token);
    expect(again).to.deep.include({ org: { department: 'eng' } });
    const widened = await oauthError(exchange(next, asked.access_token, { scope: 'read clearance' }));
    expect(widened).to.include({ error: 'invalid_scope' });
  });

  it('never widened: a claim scope the user did not allow the subject client, or the exchanging client may not ask for, is invalid_scope', async () => {
    const subject = await signIn('openid department read');
    const caller = await exchanger();
    const notGranted = await oauthError(exchange(caller, subject.access_token, { scope: 'read clearance' }));
    expect(notGranted.error).to.equal('invalid_scope');
    expect(notGranted.description).to.match(/clearance/);
    const narrow = await exchanger('openid');
    const notAllowed = await oauthError(exchange(narrow, subject.access_token, { scope: 'read department' }));
    expect(notAllowed.error).to.equal('invalid_scope');
    expect(notAllowed.description).to.match(/department/);
    // Standard OpenID scopes stay refused: an API token carries no profile.
    expect((await oauthError(exchange(caller, subject.access_token, { scope: 'read email' }))).error).to.equal('invalid_scope');
  });
});
