import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/**
 * Probe (probe23): round 22 made a Keycloak re-import update only the users its own realm's import
 * created. An upstream identity provider is matched by its alias alone: an export of another realm
 * (or any export) naming the alias of a provider an operator set up in Gatehouse replaces its issuer,
 * client and endpoints — and every Gatehouse user linked to that alias (by the upstream subject)
 * then signs in through the export's issuer, which can assert any subject.
 */
describe("probe: a Keycloak import and an upstream provider it did not create", function () {
  this.timeout(90_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;

  before(async () => {
    deploy = await deployment('probe_kc_upstream_owner');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it("a provider created in Gatehouse keeps its issuer and client when an export names its alias (a conflict, in the dry run too)", async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/upstream-providers', {
      alias: 'corp',
      kind: 'oauth2',
      display_name: 'Corp SSO',
      authorization_endpoint: 'https://sso.corp.test/authorize',
      token_endpoint: 'https://sso.corp.test/token',
      userinfo_endpoint: 'https://sso.corp.test/userinfo',
      client_id: 'gatehouse-at-corp',
      client_secret: 'corp-secret',
      enabled: true,
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const before = (await callAdmin(gatehouse.url, token, 'GET', '/upstream-providers/corp')).body;
    const realm = {
      realm: 'partner',
      enabled: true,
      identityProviders: [
        { alias: 'corp', providerId: 'oidc', enabled: true, trustEmail: true, config: { clientId: 'partner-client', clientSecret: 'partner-secret', issuer: 'https://idp.partner.test', authorizationUrl: 'https://idp.partner.test/a', tokenUrl: 'https://idp.partner.test/t', clientAuthMethod: 'client_secret_post' } },
      ],
    };
    for (const query of ['?dry_run=true', '']) {
      const imported = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${query}`, realm);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(JSON.stringify(imported.body.upstream), query).not.to.match(/"updated":\["corp"\]/);
    }
    const after = (await callAdmin(gatehouse.url, token, 'GET', '/upstream-providers/corp')).body;
    expect({ kind: after.kind, client_id: after.client_id, issuer: after.issuer, token_endpoint: after.token_endpoint, trust_email: after.trust_email }).to.deep.equal({
      kind: before.kind,
      client_id: before.client_id,
      issuer: before.issuer,
      token_endpoint: before.token_endpoint,
      trust_email: before.trust_email,
    });
  });
});
