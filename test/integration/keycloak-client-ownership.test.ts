import { expect } from 'chai';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { exportAll, importAll } from '../../src/transfer/export-file.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';

/** A confidential Keycloak client (standard flow) of `redirect`. */
const kcClient = (clientId: string, redirect: string, secret = 'kc-secret') => ({
  clientId,
  enabled: true,
  publicClient: false,
  clientAuthenticatorType: 'client-secret',
  secret,
  standardFlowEnabled: true,
  redirectUris: [redirect],
  webOrigins: [],
});
const realm = (name: string, clients: unknown[]) => ({ realm: name, enabled: true, clients });

/**
 * A client's redirect URIs are where its users' authorization codes go: a Keycloak import marks the
 * clients it creates with their realm (importedFrom, carried by gatehouse export / import), and a
 * re-import replaces only its own realm's. A client created in Gatehouse or by another realm's
 * import whose client_id an export names is a conflict (dry run too), left as it is.
 */
describe('Keycloak import: a re-import replaces only the clients its realm created', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const importRealm = (body: unknown, dryRun = false) => callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
  const redirects = async (clientId: string) => (await callAdmin(gatehouse.url, token, 'GET', `/clients/${clientId}`)).body.redirect_uris as string[];
  const mark = async (clientId: string) => (await gatehouse.services.clients.get(clientId))?.importedFrom;

  before(async () => {
    deploy = await deployment('kc_client_ownership');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it("a client created in Gatehouse keeps its redirect URIs when an export names its client_id (a conflict, in the dry run too)", async () => {
    const created = await callAdmin(gatehouse.url, token, 'POST', '/clients', { client_id: 'local-app', name: 'Local app', redirect_uris: ['https://local.example.com/cb'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    for (const dryRun of [true, false]) {
      const imported = await importRealm(realm('west', [kcClient('local-app', 'https://attacker.example.net/cb')]), dryRun);
      expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
      expect(imported.body.clients.updated, String(dryRun)).to.deep.equal([]);
      expect(imported.body.conflicts.map((one: { kind?: string; name?: string }) => `${one.kind} ${one.name}`), String(dryRun)).to.deep.equal(['client local-app']);
    }
    expect(await redirects('local-app')).to.deep.equal(['https://local.example.com/cb']);
    expect(await mark('local-app')).to.equal(undefined);
  });

  it("a re-import of the realm that created a client replaces it; another realm's import naming it is a conflict", async () => {
    const first = await importRealm(realm('north', [kcClient('north-app', 'https://north.example.com/cb')]));
    expect(first.body.clients.created).to.deep.equal(['north-app']);
    expect(await mark('north-app')).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    expect((await callAdmin(gatehouse.url, token, 'GET', '/clients/north-app')).body).not.to.have.property('importedFrom');
    const again = await importRealm(realm('north', [kcClient('north-app', 'https://north2.example.com/cb')]));
    expect(again.body.clients.updated).to.deep.equal(['north-app']);
    expect(await redirects('north-app')).to.deep.equal(['https://north2.example.com/cb']);
    const other = await importRealm(realm('south', [kcClient('north-app', 'https://south.example.com/cb')]));
    expect(other.body.clients.updated).to.deep.equal([]);
    expect(other.body.conflicts).to.deep.include({ kind: 'client', name: 'north-app', reason: 'client_id held by a client the import of realm north created: left as it is (redirect URIs, secret, settings). Rename the client in Keycloak to import it' });
    expect(await redirects('north-app')).to.deep.equal(['https://north2.example.com/cb']);
  });

  it('a backup (gatehouse export → import) keeps the mark, and a file cannot forge one it does not hold', async () => {
    let text = '';
    await exportAll(gatehouse.services, deploy.issuer, { write: (piece) => (text += piece), encrypted: false });
    const document = JSON.parse(text) as { clients: Array<{ clientId: string; importedFrom?: unknown }> };
    expect(document.clients.find((one) => one.clientId === 'north-app')?.importedFrom).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    expect(document.clients.find((one) => one.clientId === 'local-app')).not.to.have.property('importedFrom');
    await gatehouse.services.clients.delete('north-app');
    await importAll(gatehouse.services, document, deploy.issuer);
    expect(await mark('north-app')).to.deep.equal({ kind: 'keycloak', realm: 'north' });
    // Only a Keycloak mark of a named realm is taken.
    const forged = { ...document, clients: document.clients.map((one) => (one.clientId === 'local-app' ? { ...one, importedFrom: { kind: 'gatehouse', realm: 'west' } } : one)) };
    let refused: unknown;
    try {
      await importAll(gatehouse.services, forged, deploy.issuer);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.an('error');
    expect(await mark('local-app')).to.equal(undefined);
  });

  it('a client imported before imports marked theirs is a conflict even when the export repeats all of it; deleted in Gatehouse, the next import creates it as the realm\'s', async () => {
    const first = await importRealm(realm('legacy', [kcClient('same-app', 'https://same.example.com/cb')]));
    expect(first.body.clients.created).to.deep.equal(['same-app']);
    // As a version without the mark left it.
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      await mongo.db!.collection('clients').updateMany({ _id: { $in: ['same-app'] } as never }, { $unset: { importedFrom: '' } });
    } finally {
      await mongo.close();
    }
    const next = realm('legacy', [{ ...kcClient('same-app', 'https://same.example.com/cb'), name: 'Same, renamed' }]);
    for (const dryRun of [true, false]) {
      const again = await importRealm(next, dryRun);
      expect(again.body.clients.updated, String(dryRun)).to.deep.equal([]);
      const conflicts = again.body.conflicts as Array<{ kind?: string; name?: string; reason: string }>;
      expect(conflicts.map((one) => `${one.kind} ${one.name}`), String(dryRun)).to.deep.equal(['client same-app']);
      expect(conflicts[0]!.reason).to.match(/never takes over an unmarked client/).and.to.match(/delete it in Gatehouse \(gatehouse clients delete ID/);
    }
    expect(await mark('same-app')).to.equal(undefined);
    // The way out the conflict names: delete it, import again.
    expect((await callAdmin(gatehouse.url, token, 'DELETE', '/clients/same-app')).status).to.be.oneOf([200, 204]);
    const after = await importRealm(next);
    expect(after.body.clients.created).to.deep.equal(['same-app']);
    expect(await mark('same-app')).to.deep.equal({ kind: 'keycloak', realm: 'legacy' });
  });
});
