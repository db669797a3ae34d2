import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { invalid } from '../../src/errors/gatehouse-error.ts';
import { parsedDocument, type KeycloakExportDocument } from '../../src/keycloak/export-stream.ts';
import { REPORT_SAMPLE } from '../../src/keycloak/import-report.ts';
import { importKeycloakRealm, KEYCLOAK_USER_BATCH } from '../../src/operations/keycloak-import.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { deployment, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';

/** Users of each kind: more than the report shows of a list, so each list is cut and counted. */
const PLAIN = 45;
const BY_EMAIL = 22;
const REFUSED = 25;
const pad = (index: number) => String(index).padStart(3, '0');
/** Not mapped, kind user: every imported user has no password in this export, and each renamed one is noted too. */
const UNMAPPED = PLAIN + 2 * BY_EMAIL;

/** A realm of many users: plain usernames, email addresses as usernames (renamed: not mapped, kind user), and usernames the admin API refuses. */
function manyUsers() {
  const user = (id: string, username: string) => ({ id, username, enabled: true, createdTimestamp: Date.parse('2026-06-01T08:00:00Z') });
  return {
    realm: 'many',
    enabled: true,
    users: [
      ...Array.from({ length: PLAIN }, (_, index) => user(`plain-${pad(index)}`, `plain-${pad(index)}`)),
      ...Array.from({ length: BY_EMAIL }, (_, index) => user(`mail-${pad(index)}`, `mail-${pad(index)}@many.test`)),
      ...Array.from({ length: REFUSED }, (_, index) => user(`refused-${pad(index)}`, `refused ${pad(index)}`)),
    ],
  };
}

interface Report {
  users: { created: string[]; updated: string[] };
  refusedUsers: Array<{ user: string; reason: string }>;
  unmapped: Array<{ kind: string; name: string; reason: string }>;
  counts: { users: { created: number; updated: number }; refusedUsers: number; unmapped: Record<string, number> };
}

describe('the Keycloak import report: counts and the first entries of each list (bounded), every entry in --report FILE', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;
  let scratch: string;
  let realmFile: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-kc-report-'));
    realmFile = join(scratch, 'many-realm.json');
    writeFileSync(realmFile, JSON.stringify(manyUsers()));
    deploy = await deployment('keycloak_import_report');
    gatehouse = await deploy.start();
    token = await (await adminClient(gatehouse)).token();
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    await gatehouse?.close();
    await deploy?.drop();
  });

  it(`the admin API answers the counts and the first ${REPORT_SAMPLE} entries of each list (of each kind, not mapped), however many users`, async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak?dry_run=true', manyUsers());
    expect(status, JSON.stringify(body)).to.equal(200);
    const report = body as Report;
    expect(report.counts.users).to.deep.equal({ created: PLAIN + BY_EMAIL, updated: 0 });
    expect(report.counts.refusedUsers).to.equal(REFUSED);
    // Beside the users' notes, one about the realm: Gatehouse runs its own URL layout, not realm many's (GATEHOUSE_KEYCLOAK_REALM).
    expect(report.counts.unmapped).to.deep.equal({ user: UNMAPPED, realm: 1 });
    expect(report.users.created).to.deep.equal(Array.from({ length: REPORT_SAMPLE }, (_, index) => `plain-${pad(index)}`));
    expect(report.refusedUsers).to.have.length(REPORT_SAMPLE);
    expect(report.refusedUsers[0]).to.deep.include({ user: 'refused 000' });
    expect(report.unmapped).to.have.length(REPORT_SAMPLE + 1);
    expect(report.unmapped.filter((item) => item.kind === 'user')).to.have.length(REPORT_SAMPLE);
    expect(report.unmapped.find((item) => item.kind === 'realm')).to.deep.include({ name: 'realm many' });
  });

  it('gatehouse import --keycloak FILE --report REPORT: counts and a sample on the terminal, every entry in REPORT (JSON lines, mode 0600)', async () => {
    const reportFile = join(scratch, 'report.jsonl');
    const exit = await runCli(['import', '--keycloak', realmFile, '--report', reportFile], env);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stdout).to.include(`users: ${PLAIN + BY_EMAIL} new, 0 updated`);
    expect(exit.stdout).to.include(`users refused (the admin API refuses them too; the others are imported): ${REFUSED}\n`);
    expect(exit.stdout).to.include(`    … and ${REFUSED - REPORT_SAMPLE} more (${reportFile} lists them all)\n`);
    expect(exit.stdout).to.include(`  … and ${UNMAPPED - REPORT_SAMPLE} more of kind user (${reportFile} lists them all)\n`);
    expect(exit.stdout.split('\n').filter((line) => line.startsWith('    refused '))).to.have.length(REPORT_SAMPLE);
    expect(exit.stdout).to.not.include('plain-044');

    expect(statSync(reportFile).mode & 0o777).to.equal(0o600);
    expect(readdirSync(scratch).filter((name) => name.endsWith('.tmp'))).to.deep.equal([]);
    const lines = readFileSync(reportFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const names = (list: string) => lines.filter((line) => line.list === list).map((line) => line.name);
    expect(names('users.created')).to.have.members([...Array.from({ length: PLAIN }, (_, index) => `plain-${pad(index)}`), ...Array.from({ length: BY_EMAIL }, (_, index) => `mail-${pad(index)}`)]);
    expect(lines.filter((line) => line.list === 'refusedUsers').map((line) => line.user)).to.have.members(Array.from({ length: REFUSED }, (_, index) => `refused ${pad(index)}`));
    expect(lines.filter((line) => line.list === 'unmapped' && line.kind === 'user')).to.have.length(UNMAPPED);
    expect(lines.at(-1)).to.deep.include({ list: 'end', complete: true, realm: 'many', dryRun: false });
    expect((lines.at(-1)!.counts as Report['counts']).users).to.deep.equal({ created: PLAIN + BY_EMAIL, updated: 0 });

    // Again, as JSON: the same bounded report the admin API answers; every user now updated.
    const json = await runCli(['import', '--keycloak', realmFile, '--json'], env);
    expect(json.code, json.stderr).to.equal(0);
    const again = JSON.parse(json.stdout) as Report;
    expect(again.counts.users).to.deep.equal({ created: 0, updated: PLAIN + BY_EMAIL });
    expect(again.users.updated).to.have.length(REPORT_SAMPLE);
  });

  it('--report FILE of an import that stops records that it did not complete, and why; a report that cannot be written stops the import first', async () => {
    const reportFile = join(scratch, 'stopped.jsonl');
    const exit = await runCli(['import', '--keycloak', join(scratch, 'missing-dir-or-file.json'), '--report', reportFile], env);
    expect(exit.code).to.equal(2);
    const unwritable = await runCli(['import', '--keycloak', realmFile, '--report', join(scratch, 'no-such-dir', 'report.jsonl')], env);
    expect(unwritable.code).to.equal(2);
    expect(unwritable.stderr).to.match(/^gatehouse: --report .*no-such-dir\/report\.jsonl: cannot write it \(.*\); nothing was imported\n$/);
    const realm = manyUsers();
    const users = join(scratch, 'other-users.json');
    writeFileSync(users, JSON.stringify({ realm: 'not-imported-here', users: realm.users.slice(0, 2) }));
    const stopped = await runCli(['import', '--keycloak', users, '--report', reportFile], env);
    expect(stopped.code).to.equal(2);
    const lines = readFileSync(reportFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).to.deep.equal([{ list: 'end', complete: false, error: stopped.stderr.replace(/^gatehouse: /, '').trimEnd() }]);
  });

  it('a file that breaks between the check and the write (changed meanwhile) stops the import saying how many users were written before', async () => {
    const users = Array.from({ length: KEYCLOAK_USER_BATCH + 10 }, (_, index) => ({ id: `stop-${pad(index)}`, username: `stop-${pad(index)}`, enabled: true }));
    const inner = parsedDocument({ realm: 'stopping', enabled: true, users }, '');
    let reads = 0;
    const changing: KeycloakExportDocument = {
      name: '',
      read: async (onUser) => {
        reads += 1;
        if (reads === 1) return inner.read(onUser);
        // The second read (the write pass) finds the file cut after its first batch and a few more users.
        return inner.read(async (user, index) => {
          if (index === KEYCLOAK_USER_BATCH + 5) throw invalid('stopping-realm.json', 'json_file_at', { line: 9, column: 1, reason: 'cut short' });
          await onUser(user, index);
        });
      },
    };
    let error: unknown;
    try {
      await importKeycloakRealm(gatehouse.services, { actor: { type: 'system', id: 'test' } }, { realm: changing }, { dryRun: false });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.equal(
      `stopping-realm.json: is not valid JSON at line 9, column 1: cut short (the file changed after it was checked: the import stopped there, after writing the realm and ${KEYCLOAK_USER_BATCH} users; run it again once the file is whole, it is idempotent)`,
    );
    expect(await gatehouse.services.accounts.findByLogin(`stop-${pad(KEYCLOAK_USER_BATCH - 1)}`)).to.not.equal(undefined);
    expect(await gatehouse.services.accounts.findByLogin(`stop-${pad(KEYCLOAK_USER_BATCH)}`)).to.equal(undefined);
  });
});
