import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** A Keycloak client scope with one hardcoded claim. */
const kcScope = (name: string, claim: string, value: string) => ({
  name,
  protocol: 'openid-connect',
  attributes: {},
  protocolMappers: [{ name: claim, protocol: 'openid-connect', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': claim, 'claim.value': value, 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
});
const realm = (name: string, scopes: unknown[]) => ({ realm: name, enabled: true, clientScopes: scopes });

/**
 * A claim scope's mappers put claims into every token of the clients that list it: a Keycloak
 * re-import replaces only the claim scopes its own realm's import created (importedFrom); one
 * created in Gatehouse or by another realm's import is a conflict (dry run too), left as it is.
 */
describe('Keycloak import: a re-import replaces only the claim scopes its realm created', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const importRealm = (body: unknown, dryRun = false) => callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
  const mappers = async (name: string) => (await callAdmin(gatehouse.url, token, 'GET', `/claim-scopes/${name}`)).body.mappers as Array<{ claim: string; value: unknown }>;

  before(async () => {
    deploy = await deployment('kc_scope_ownership');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a claim scope created in Gatehouse keeps its mappers when an export names it (a conflict, in the dry run too)', async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/claim-scopes', { name: 'tenant', mappers: [{ type: 'hardcoded', claim: 'tenant', value: 'ours' }] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    for (const dryRun of [true, false]) {
      const imported = await importRealm(realm('west', [kcScope('tenant', 'tenant', 'theirs')]), dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.claimScopes.updated, String(dryRun)).to.deep.equal([]);
      expect(imported.body.conflicts.map((one: { kind?: string; name?: string }) => `${one.kind} ${one.name}`), String(dryRun)).to.deep.equal(['client scope tenant']);
    }
    expect((await mappers('tenant')).map((one) => one.value)).to.deep.equal(['ours']);
  });

  it("a re-import of the realm that created a claim scope replaces it; another realm's is a conflict", async () => {
    expect((await importRealm(realm('north', [kcScope('north-info', 'north_claim', 'one')]))).body.claimScopes.created).to.deep.equal(['north-info']);
    expect((await gatehouse.services.claimScopes.get('north-info'))?.importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    expect((await callAdmin(gatehouse.url, token, 'GET', '/claim-scopes/north-info')).body).not.to.have.property('importedFrom');
    expect((await importRealm(realm('north', [kcScope('north-info', 'north_claim', 'two')]))).body.claimScopes.updated).to.deep.equal(['north-info']);
    expect((await mappers('north-info')).map((one) => one.value)).to.deep.equal(['two']);
    // A scope of the export giving the kept scope's claim: that mapper is left out (a claim comes from one scope), the import goes on.
    const other = await importRealm(realm('south', [kcScope('north-info', 'south_claim', 'south'), kcScope('south-extra', 'north_claim', 'south')]));
    expect(other.status, JSON.stringify(other.body)).to.equal(200);
    expect(other.body.claimScopes.updated).to.deep.equal([]);
    expect(other.body.unmapped, JSON.stringify(other.body.unmapped)).to.deep.include({ kind: 'client scope', name: 'south-extra', reason: "claim north_claim: Gatehouse's claim scope north-info gives it already (a claim comes from one scope); this mapper is not imported" });
    expect(other.body.conflicts.map((one: { kind?: string; name?: string }) => `${one.kind} ${one.name}`)).to.deep.equal(['client scope north-info']);
    expect((await mappers('north-info')).map((one) => one.value)).to.deep.equal(['two']);
  });
});
