import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

/**
 * Keycloak's client_credentials tokens name the service-account user: `preferred_username:
 * service-account-<clientId>` (lowercased, as Keycloak stores usernames) and `client_id` (Keycloak
 * 26's service_account scope; apps tell a service token by them). With Keycloak-shaped claims on,
 * Gatehouse's carry the same, in the JWT and at introspection.
 */
describe("client_credentials tokens with Keycloak's claims name the service account (openid-client)", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  before(async () => {
    deploy = await deployment('kc_service_account_claims');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  const service = async (body: Record<string, unknown>) => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Billing worker', apis: [API], grant_types: ['client_credentials'], ...body });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    return relyingParty(deploy.issuer, created.body.client_id as string, created.body.client_secret as string);
  };

  it('preferred_username service-account-<clientId> and client_id, in the JWT and at introspection', async () => {
    const config = await service({ client_id: 'Billing-Worker', token_claims: 'keycloak', service_account_roles: ['billing'] });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).to.include({ typ: 'Bearer', azp: 'Billing-Worker', client_id: 'Billing-Worker', preferred_username: 'service-account-billing-worker' });
    expect(claims.realm_access).to.deep.equal({ roles: ['billing'] });
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.include({ active: true, client_id: 'Billing-Worker', preferred_username: 'service-account-billing-worker' });
  });

  it('without service-account roles too; a client without Keycloak claims: no preferred_username', async () => {
    const keycloak = decodeJwt((await oidc.clientCredentialsGrant(await service({ client_id: 'cron', token_claims: 'keycloak' }), { resource: API })).access_token);
    expect(keycloak).to.include({ typ: 'Bearer', azp: 'cron', client_id: 'cron', preferred_username: 'service-account-cron' });
    const plain = decodeJwt((await oidc.clientCredentialsGrant(await service({ client_id: 'plain-cron' }), { resource: API })).access_token);
    expect(plain).to.include({ client_id: 'plain-cron' });
    expect(plain).to.not.have.property('preferred_username');
  });

  it("clientHost and clientAddress, the caller's address (Keycloak 26's service_account scope, a default scope of every service-account client), in the JWT and at introspection", async () => {
    const config = await service({ client_id: 'addr-worker', token_claims: 'keycloak' });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: API });
    const claims = decodeJwt(tokens.access_token);
    // Keycloak writes the remote host into both (ClientCredentialsGrantType), an address without a name lookup.
    expect(claims.clientAddress).to.be.a('string').and.match(/127\.0\.0\.1$/);
    expect(claims.clientHost).to.equal(claims.clientAddress);
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspected).to.include({ clientHost: claims.clientAddress, clientAddress: claims.clientAddress });
  });

  it('an API with Keycloak claims gets typ, azp, preferred_username and the service_account claims from a client with neither Keycloak claims nor service-account roles', async () => {
    const keycloakApi = 'https://kc-api.example.com';
    await gatehouse.services.apis.create({ identifier: keycloakApi, scopes: ['read'], tokenClaims: 'keycloak' });
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'plain-caller', name: 'Plain caller', apis: [keycloakApi], grant_types: ['client_credentials'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const config = await relyingParty(deploy.issuer, 'plain-caller', created.body.client_secret as string);
    const claims = decodeJwt((await oidc.clientCredentialsGrant(config, { resource: keycloakApi })).access_token);
    expect(claims).to.include({ typ: 'Bearer', azp: 'plain-caller', client_id: 'plain-caller', preferred_username: 'service-account-plain-caller' });
    expect(claims.clientAddress).to.be.a('string');
    expect(claims).to.not.have.property('realm_access');
  });
});
