import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

const kcClient = (clientId: string, redirect: string) => ({
  clientId,
  enabled: true,
  publicClient: false,
  clientAuthenticatorType: 'client-secret',
  secret: 'kc-secret',
  standardFlowEnabled: true,
  redirectUris: [redirect],
  webOrigins: [],
});
const consentTo = (clientId: string) => ({ clientId, grantedClientScopes: ['profile', 'email'], createdDate: 1_700_000_000_000, lastUpdatedDate: 1_700_000_000_000 });
const kcUser = (id: string, username: string, consents: string[]) => ({ id, username, email: `${username}@example.com`, emailVerified: true, enabled: true, clientConsents: consents.map(consentTo) });
const NOT_WRITTEN = "the client is a conflict (its client_id is held by a client this realm's import does not own): not written, it would be a consent to that other client";

/**
 * A consent record is a user's "yes" to one client_id: a Keycloak user's consent to a client the import
 * did not bring because Gatehouse holds that client_id for another client (a conflict) would be a
 * consent to that other client, which then asks the user nothing. Such consents are not written, and
 * are reported (unmapped, kind "user consent").
 */
describe("Keycloak import: users' consents to a client that is a conflict", function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const importRealm = async (body: unknown, dryRun = false) => {
    const response = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const consentsOf = async (id: string) => (await gatehouse.services.consents.ofUser(id)).map((consent) => consent.clientId).sort();
  const unmappedConsents = (report: { unmapped: Array<{ kind: string; name: string; reason: string }> }) => report.unmapped.filter((item) => item.kind === 'user consent');

  before(async () => {
    deploy = await deployment('kc_conflict_consents');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'local-app', name: 'Local app', redirect_uris: ['https://local.example.com/cb'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a realm file with its users: the consent to its own client is written, the one to the conflicting client is not (dry run alike), and reported', async () => {
    const kim = randomUUID();
    const document = { realm: 'east', enabled: true, clients: [kcClient('local-app', 'https://attacker.example.net/cb'), kcClient('east-app', 'https://east.example.com/cb')], users: [kcUser(kim, 'kim', ['local-app', 'east-app'])] };
    for (const dryRun of [true, false]) {
      const report = await importRealm(document, dryRun);
      expect(report.conflicts.map((one: { name?: string }) => one.name), String(dryRun)).to.deep.equal(['local-app']);
      expect(report.consents, String(dryRun)).to.equal(1);
      expect(unmappedConsents(report), String(dryRun)).to.deep.equal([{ kind: 'user consent', name: 'kim → local-app', reason: NOT_WRITTEN }]);
    }
    expect(await consentsOf(kim)).to.deep.equal(['east-app']);
  });

  it('a users file on its own (kc.sh export --dir): the same', async () => {
    await importRealm({ realm: 'south', enabled: true, clients: [kcClient('local-app', 'https://attacker.example.net/cb'), kcClient('south-app', 'https://south.example.com/cb')] });
    const lee = randomUUID();
    const report = await importRealm({ realm: 'south', users: [kcUser(lee, 'lee', ['local-app', 'south-app'])] });
    expect(report.users.created).to.deep.equal(['lee']);
    expect(report.consents).to.equal(1);
    expect(unmappedConsents(report)).to.deep.equal([{ kind: 'user consent', name: 'lee → local-app', reason: NOT_WRITTEN }]);
    expect(await consentsOf(lee)).to.deep.equal(['south-app']);
  });
});
