import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { StoredUser } from '../../src/accounts/user-model.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

const bare = (id: string, username: string, enabled = true) => ({ id, username, email: `${username}@example.com`, emailVerified: true, enabled });
const realm = (users: unknown[]) => ({ realm: 'gamma', enabled: true, users });

/**
 * Who disabled a user decides what a re-import may do with it: Keycloak's `enabled: false` is the
 * import's, and a later export saying enabled enables the user again; a disable in Gatehouse (admin
 * API, CLI, console) is the operator's, which no re-import undoes — reported as `disabledKept`.
 */
describe('Keycloak re-import vs a user disabled in Gatehouse', function () {
  this.timeout(120_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  const stored = async (id: string) => (await gatehouse.services.users.storedById(id))!;
  const importRealm = async (body: unknown, dryRun = false) => {
    const response = await callAdmin(gatehouse.url, token, 'POST', `/import/keycloak${dryRun ? '?dry_run=true' : ''}`, body);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const cli = (args: string[]) =>
    runCli(args, { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings });

  before(async () => {
    deploy = await deployment('kc_reimport_disabled');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
  });
  after(async () => {
    await gatehouse.close();
    await deploy.drop();
  });

  it('a user an operator disabled (admin API, CLI) stays disabled when Keycloak still has it enabled, dry run and import reporting it', async () => {
    const [ann, ben, cid] = [randomUUID(), randomUUID(), randomUUID()];
    const users = [bare(ann, 'ann'), bare(ben, 'ben'), bare(cid, 'cid')];
    await importRealm(realm(users));
    expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${ann}/disable`)).status).to.equal(204);
    const disabled = await cli(['users', 'disable', 'ben']);
    expect(disabled.code, disabled.stderr).to.equal(0);
    for (const dryRun of [true, false]) {
      const report = await importRealm(realm(users), dryRun);
      expect(report.users.updated, `dry run: ${dryRun}`).to.have.members(['ann', 'ben', 'cid']);
      expect(report.disabledKept, `dry run: ${dryRun}`).to.have.members(['ann', 'ben']);
      expect(report.counts.disabledKept).to.equal(2);
    }
    expect([(await stored(ann)).disabled, (await stored(ben)).disabled, (await stored(cid)).disabled]).to.deep.equal([true, true, false]);
    const file = join(mkdtempSync(join(tmpdir(), 'kc-disabled-')), 'realm.json');
    writeFileSync(file, JSON.stringify(realm(users)));
    const shown = await cli(['import', '--keycloak', file, '--dry-run']);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/disabled in Gatehouse, kept disabled \(2\): (ann, ben|ben, ann)/);
  });

  it('a user disabled in Keycloak and enabled there again comes back enabled', async () => {
    const dan = randomUUID();
    await importRealm(realm([bare(dan, 'dan', false)]));
    expect((await stored(dan)).disabled).to.equal(true);
    const report = await importRealm(realm([bare(dan, 'dan', true)]));
    expect(report.disabledKept).to.deep.equal([]);
    expect((await stored(dan)).disabled).to.equal(false);
  });

  it('a user Keycloak disabled that an operator disables too stays disabled when Keycloak enables it; enabled by the operator, the next disable in Keycloak applies', async () => {
    const eve = randomUUID();
    await importRealm(realm([bare(eve, 'eve', false)]));
    expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${eve}/disable`)).status).to.equal(204);
    expect((await importRealm(realm([bare(eve, 'eve', true)]))).disabledKept).to.deep.equal(['eve']);
    expect((await stored(eve)).disabled).to.equal(true);
    expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${eve}/enable`)).status).to.equal(204);
    expect((await importRealm(realm([bare(eve, 'eve', true)]))).disabledKept).to.deep.equal([]);
    expect((await stored(eve)).disabled).to.equal(false);
    await importRealm(realm([bare(eve, 'eve', false)]));
    expect((await stored(eve)).disabled).to.equal(true);
    await importRealm(realm([bare(eve, 'eve', true)]));
    expect((await stored(eve)).disabled).to.equal(false);
  });

  it('a user disabled before Gatehouse recorded who disabled it is taken as an operator\'s: kept disabled and reported', async () => {
    const fay = randomUUID();
    await importRealm(realm([bare(fay, 'fay', false)]));
    const { disabledBy, ...unrecorded } = await stored(fay);
    expect(disabledBy).to.equal('import');
    await gatehouse.services.users.importOne(unrecorded as StoredUser);
    expect((await importRealm(realm([bare(fay, 'fay', true)]))).disabledKept).to.deep.equal(['fay']);
    expect((await stored(fay)).disabled).to.equal(true);
  });

  it('gatehouse export / import keeps who disabled each user: on the restored deployment a re-import still enables what the import disabled and keeps what an operator did', async () => {
    const [gil, hal] = [randomUUID(), randomUUID()];
    await importRealm(realm([bare(gil, 'gil', false), bare(hal, 'hal')]));
    expect((await callAdmin(gatehouse.url, token, 'POST', `/users/${hal}/disable`)).status).to.equal(204);
    const file = join(mkdtempSync(join(tmpdir(), 'kc-disabled-export-')), 'export.json');
    const exported = await cli(['export', '--output', file, '--unencrypted']);
    expect(exported.code, exported.stderr).to.equal(0);
    const target = await deployment('kc_reimport_disabled_target');
    try {
      const env = { NODE_ENV: 'test', MONGODB_URI: target.mongodbUri, GATEHOUSE_SECRET: target.secret, GATEHOUSE_ISSUER: target.issuer, ...target.settings };
      const imported = await runCli(['import', '--input', file], env);
      expect(imported.code, imported.stderr).to.equal(0);
      const restored = await target.start();
      try {
        const byId = async (id: string) => (await restored.services.users.storedById(id))!;
        expect([(await byId(gil)).disabledBy, (await byId(hal)).disabledBy]).to.deep.equal(['import', 'operator']);
        const adminToken = await (await adminClient(restored)).token();
        const again = await callAdmin(restored.url, adminToken, 'POST', '/import/keycloak', realm([bare(gil, 'gil'), bare(hal, 'hal')]));
        expect(again.status, JSON.stringify(again.body)).to.equal(200);
        expect(again.body.disabledKept).to.deep.equal(['hal']);
        expect([(await byId(gil)).disabled, (await byId(hal)).disabled]).to.deep.equal([false, true]);
      } finally {
        await restored.close();
      }
    } finally {
      await target.drop();
    }
  });
});
