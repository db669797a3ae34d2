import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { API, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';

const KEYCLOAK_API = 'https://orders.example.com';
const OPAQUE_API = 'https://opaque.example.com';

/**
 * Probe (probe24): service A gets a client_credentials token for API B; B checks it by introspection
 * with its own credentials (PRODUCT.md scenario 2). The service account's roles must be in B's
 * introspection answer as they are in the JWT — not only when A introspects its own token.
 */
describe("probe: a service account's roles at the resource server's introspection", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let resourceServer: { id: string; secret: string };

  before(async () => {
    deploy = await deployment('probe_sa_introspect');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const made = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Orders API' });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    resourceServer = { id: made.body.client_id as string, secret: made.body.client_secret as string };
    // B is bound to each API: it may introspect their tokens (src/oidc/introspection-policy.ts).
    await gatehouse.services.apis.create({ identifier: API, scopes: ['read'], includeRoles: true, clientId: resourceServer.id });
    await gatehouse.services.apis.create({ identifier: KEYCLOAK_API, scopes: ['read'], tokenClaims: 'keycloak', clientId: resourceServer.id });
    await gatehouse.services.apis.create({ identifier: OPAQUE_API, scopes: ['read'], includeRoles: true, format: 'opaque', clientId: resourceServer.id });
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('JWT and opaque tokens: B sees the roles A was given, as A does', async () => {
    const service = await callAdmin(gatehouse.url, token, 'POST', '/clients', { name: 'Billing worker', apis: [API, KEYCLOAK_API, OPAQUE_API], service_account_roles: ['billing', 'orders-api:orders.read'] });
    expect(service.status, JSON.stringify(service.body)).to.equal(201);
    const a = await relyingParty(deploy.issuer, service.body.client_id as string, service.body.client_secret as string);
    const b = await relyingParty(deploy.issuer, resourceServer.id, resourceServer.secret);
    for (const resource of [API, OPAQUE_API]) {
      const { access_token: issued } = await oidc.clientCredentialsGrant(a, { resource });
      if (resource === API) expect(decodeJwt(issued).roles).to.deep.equal(['billing', 'orders-api:orders.read']);
      const byA = await oidc.tokenIntrospection(a, issued);
      const byB = await oidc.tokenIntrospection(b, issued);
      expect(byA.roles, `${resource} by A`).to.deep.equal(['billing', 'orders-api:orders.read']);
      expect(byB.active, `${resource} by B`).to.equal(true);
      expect(byB.roles, `${resource} by B`).to.deep.equal(['billing', 'orders-api:orders.read']);
    }
    const { access_token: keycloakShaped } = await oidc.clientCredentialsGrant(a, { resource: KEYCLOAK_API });
    const byB = await oidc.tokenIntrospection(b, keycloakShaped);
    expect(byB.realm_access, 'Keycloak-shaped, by B').to.deep.equal({ roles: ['billing'] });
    expect(byB.resource_access, 'Keycloak-shaped, by B').to.deep.equal({ 'orders-api': { roles: ['orders.read'] } });
  });
});
