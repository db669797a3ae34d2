import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { importLookups } from '../../src/accounts/user-admin.ts';
import { parsedDocument, type KeycloakExportDocument } from '../../src/keycloak/export-stream.ts';
import { importKeycloakRealm } from '../../src/operations/keycloak-import.ts';
import type { RunningGatehouse } from '../../src/server.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { isFerretDbV1 } from '../../src/storage/server-kind.ts';
import { adminClient, callAdmin } from '../helpers/admin.ts';
import { signIn, UserAgent } from '../helpers/browserless.ts';
import { authorizationRequest, deployment, relyingParty, type Deployment } from '../helpers/e2e.ts';
import { runCli } from '../helpers/process.ts';
import { dropDatabase, freshDatabaseUri } from '../helpers/stores.ts';

/** `kc.sh export --dir … --realm acme-dir --users-per-file 2` of a real Keycloak 26.7.3 (test/fixtures/keycloak/README.md). */
const DIR = fileURLToPath(new URL('../fixtures/keycloak/realm-export-dir', import.meta.url));
const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), 'utf8')) as { realm: string; users: Array<{ id: string; username: string }> } & Record<string, unknown>;
const USERS_FILES = ['acme-dir-users-0.json', 'acme-dir-users-1.json', 'acme-dir-users-2.json', 'acme-dir-users-3.json'];
const idOf = (username: string) => USERS_FILES.flatMap((name) => read(name).users).find((user) => user.username === username)!.id;
const PASSWORDS: Record<string, string> = {
  'amy-dir': 'Directory password #1',
  'bob-dir': 'Directory password #2',
  'cat-dir': 'Directory password #3',
  'dan-dir': 'Directory password #4',
  'eli-dir': 'Directory password #5',
  'fox-dir': 'Directory password #6',
  gil: 'Directory password #7',
};

describe('Keycloak import of a kc.sh export --dir directory (realm file + users files, a real Keycloak 26)', function () {
  this.timeout(180_000);
  let deploy: Deployment;
  let gatehouse: RunningGatehouse;
  let token: string;
  let env: Record<string, string>;
  /** Made when the suite runs (not when mocha loads the file, in a process that may not run it), removed after. */
  let scratch: string;

  /** A copy of the fixture directory, changed by `change`. */
  const variant = (name: string, change: (dir: string) => void) => {
    const dir = join(scratch, name);
    cpSync(DIR, dir, { recursive: true });
    change(dir);
    return dir;
  };
  const user = async (username: string) => (await gatehouse.services.users.exportAll()).find((one) => one.username === username);

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-kc-dir-'));
    deploy = await deployment('keycloak_dir_import', { settings: { GATEHOUSE_KEYCLOAK_REALM: 'acme-dir' } });
    gatehouse = await deploy.start();
    const admin = await adminClient(gatehouse);
    const rp = await relyingParty(`${deploy.issuer}/realms/acme-dir`, admin.clientId, admin.secret);
    token = (await oidc.clientCredentialsGrant(rp, { scope: 'admin' })).access_token;
    env = { NODE_ENV: 'test', MONGODB_URI: deploy.mongodbUri, GATEHOUSE_SECRET: deploy.secret, GATEHOUSE_ISSUER: deploy.issuer, ...deploy.settings };
  });
  after(async () => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    await gatehouse.close();
    await deploy.drop();
  });

  it('the fixture is what kc.sh export --dir writes: the realm file without users, then users files of { realm, users }', () => {
    expect(readdirSync(DIR).sort()).to.deep.equal(['acme-dir-realm.json', ...USERS_FILES]);
    expect(read('acme-dir-realm.json').users).to.equal(undefined);
    for (const name of USERS_FILES) expect(Object.keys(read(name)), name).to.deep.equal(['realm', 'users']);
    expect(USERS_FILES.map((name) => read(name).users.length)).to.deep.equal([2, 2, 2, 1]);
  });

  it('refuses, naming the file, a directory without a realm file, with two realms, or with a users file of another realm; nothing is written', async () => {
    const refusal = async (dir: string, message: string | RegExp) => {
      const exit = await runCli(['import', '--keycloak', dir, '--dry-run'], env);
      expect(exit.code, exit.stdout).to.equal(2);
      if (typeof message === 'string') expect(exit.stderr).to.include(message);
      else expect(exit.stderr).to.match(message);
    };
    const none = variant('none', (dir) => rmSync(join(dir, 'acme-dir-realm.json')));
    await refusal(none, `${none}: no <realm>-realm.json in it`);
    const two = variant('two', (dir) => writeFileSync(join(dir, 'other-realm.json'), JSON.stringify({ realm: 'other', enabled: true })));
    await refusal(two, 'holds the realm files of several realms (acme-dir-realm.json, other-realm.json)');
    const named = variant('named', (dir) => renameSync(join(dir, 'acme-dir-users-2.json'), join(dir, 'acme-users-2.json')));
    await refusal(named, `${join(named, 'acme-users-2.json')}: a users file of another realm than acme-dir-realm.json`);
    // Named right, but holding another realm's users: found when the files are checked, before anything is written.
    const inside = variant('inside', (dir) => writeFileSync(join(dir, 'acme-dir-users-3.json'), JSON.stringify({ ...read('acme-dir-users-3.json'), realm: 'other' })));
    for (const dryRun of [['--dry-run'], []]) {
      const exit = await runCli(['import', '--keycloak', inside, ...dryRun], env);
      expect(exit.code, exit.stdout).to.equal(2);
      expect(exit.stderr).to.equal('gatehouse: acme-dir-users-3.json: realm: holds users of realm other, not of acme-dir\n');
    }
    const nul = variant('nul', (dir) => writeFileSync(join(dir, 'acme-dir-users-1.json'), readFileSync(join(DIR, 'acme-dir-users-1.json'), 'utf8').replace('"Dir"', '"D\\u0000ir"')));
    await refusal(nul, 'gatehouse: acme-dir-users-1.json: users.0.firstName: must not contain a NUL character\n');
    expect(await gatehouse.services.clients.get('docs-web')).to.equal(undefined);
    expect(await user('amy-dir')).to.equal(undefined);
  });

  it('refuses a file cut short or broken mid-way, naming the file, the line and the column, before anything is written (it said "not a Keycloak realm export")', async () => {
    /** Line and column (1-based) just after `text`. */
    const end = (text: string) => ({ line: text.split('\n').length, column: text.split('\n').at(-1)!.length + 1 });
    const refused = async (dir: string, dryRun: boolean) => {
      const exit = await runCli(['import', '--keycloak', dir, ...(dryRun ? ['--dry-run'] : [])], env);
      expect(exit.code, exit.stdout).to.equal(2);
      return exit.stderr;
    };
    // A users file cut mid-way (a copy that stopped), after two users files that parse: none of them is written.
    const users2 = readFileSync(join(DIR, 'acme-dir-users-2.json'), 'utf8');
    const cutText = users2.slice(0, users2.indexOf('"credentials"'));
    const cut = variant('cut', (dir) => writeFileSync(join(dir, 'acme-dir-users-2.json'), cutText));
    const cutAt = end(cutText);
    for (const dryRun of [true, false]) {
      expect(await refused(cut, dryRun)).to.equal(
        `gatehouse: acme-dir-users-2.json: is not valid JSON at line ${cutAt.line}, column ${cutAt.column}: the file ends there, before its JSON does: it was cut short (export or copy it again)\n`,
      );
    }
    // Broken in the middle: something where a comma belongs.
    const users1 = readFileSync(join(DIR, 'acme-dir-users-1.json'), 'utf8');
    const brokenAt = end(users1.slice(0, users1.indexOf('"Dir"') + '"Dir" '.length));
    const broken = variant('broken', (dir) => writeFileSync(join(dir, 'acme-dir-users-1.json'), users1.replace('"Dir"', '"Dir" x')));
    expect(await refused(broken, false)).to.equal(`gatehouse: acme-dir-users-1.json: is not valid JSON at line ${brokenAt.line}, column ${brokenAt.column}: expected ','\n`);
    // One realm file with its users inline (kc.sh export --file), cut mid-way: named by its path.
    const whole = JSON.stringify({ ...read('acme-dir-realm.json'), users: USERS_FILES.flatMap((name) => read(name).users) }, null, 2);
    const realmText = whole.slice(0, whole.indexOf('"cat-dir"'));
    const realmFile = join(scratch, 'cut-realm.json');
    writeFileSync(realmFile, realmText);
    const realmAt = end(realmText);
    for (const dryRun of [true, false]) {
      expect(await refused(realmFile, dryRun)).to.equal(
        `gatehouse: ${realmFile}: is not valid JSON at line ${realmAt.line}, column ${realmAt.column}: the file ends there, before its JSON does: it was cut short (export or copy it again)\n`,
      );
    }
    expect(await gatehouse.services.clients.get('docs-web')).to.equal(undefined);
    expect(await user('amy-dir')).to.equal(undefined);
    expect(await gatehouse.services.keycloakRealms.get('acme-dir')).to.equal(undefined);
  });

  it('reads each users file twice (check, write), three times when it mixes plain and email-address usernames (check, then one pass each), the realm file once', async () => {
    const reads = new Map<string, number>();
    const counted = (name: string, document: unknown): KeycloakExportDocument => {
      const parsed = parsedDocument(document, name);
      return { name, read: (onUser) => (reads.set(name, (reads.get(name) ?? 0) + 1), parsed.read(onUser)) };
    };
    const users = (name: string) => read(name).users;
    const source = {
      realm: counted('realm', read('acme-dir-realm.json')),
      usersFiles: [
        counted('plain', { realm: 'acme-dir', users: users('acme-dir-users-0.json') }),
        counted('mixed', { realm: 'acme-dir', users: [...users('acme-dir-users-2.json'), ...users('acme-dir-users-3.json')] }),
        counted('email', { realm: 'acme-dir', users: users('acme-dir-users-3.json').filter((one) => one.username.includes('@')) }),
      ],
    };
    expect(source.usersFiles.map((file) => file.name)).to.deep.equal(['plain', 'mixed', 'email']);
    const report = await importKeycloakRealm(gatehouse.services, { actor: { type: 'system', id: 'test' } }, source, { dryRun: true });
    // The email-address user of users-3 comes twice (mixed, then email): the second time it is updated, as the import reports it.
    expect(report.counts.users).to.deep.equal({ created: 2 + 3, updated: 1 });
    expect(Object.fromEntries(reads)).to.deep.equal({ realm: 1, plain: 2, mixed: 3, email: 2 });
  });

  it('the admin API refuses a users file of a realm whose realm file was never imported (its roles and groups are not known)', async () => {
    const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', read('acme-dir-users-0.json'));
    expect(status, JSON.stringify(body)).to.equal(400);
    expect(body.details).to.deep.equal([
      { path: 'realm', code: 'keycloak_realm_not_imported', params: { realm: 'acme-dir' }, message: 'realm acme-dir has not been imported here: import its realm file (acme-dir-realm.json) first, then its users files' },
    ]);
  });

  it('gatehouse import --keycloak DIR --dry-run reports the whole directory and writes nothing', async () => {
    const exit = await runCli(['import', '--keycloak', DIR, '--dry-run', '--json'], env);
    expect(exit.code, exit.stderr).to.equal(0);
    const report = JSON.parse(exit.stdout) as { dryRun: boolean; users: { created: string[]; updated: string[] }; clients: { created: string[] }; upstream: { created: string[]; links: { created: number } } };
    expect(report.dryRun).to.equal(true);
    expect(report.users.created).to.have.members(Object.keys(PASSWORDS));
    expect(report.clients.created).to.deep.equal(['docs-web']);
    expect(report.upstream.created).to.deep.equal(['corp']);
    expect(report.upstream.links.created).to.equal(1);
    const text = await runCli(['import', '--keycloak', DIR, '--dry-run'], env);
    expect(text.stdout).to.include('dry run (nothing written) for Keycloak realm acme-dir:\n  from acme-dir-realm.json and 4 users files (acme-dir-users-0.json … acme-dir-users-3.json)\n');
    expect(text.stdout).to.include('users: 7 new, 0 updated');
    expect(await user('amy-dir')).to.equal(undefined);
    expect(await gatehouse.services.clients.get('docs-web')).to.equal(undefined);
  });

  it('through the admin API: the realm file, then each users file on its own, which imports those users and nothing else', async () => {
    const realm = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', read('acme-dir-realm.json'));
    expect(realm.status, JSON.stringify(realm.body)).to.equal(200);
    expect(realm.body.users).to.deep.equal({ created: [], updated: [] });
    expect(realm.body.clients.created).to.deep.equal(['docs-web']);
    expect(realm.body.roles.created).to.include.members(['member', 'editor', 'publisher', 'docs-api:docs.read']);
    const created: string[] = [];
    for (const name of USERS_FILES) {
      const { status, body } = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', read(name));
      expect(status, `${name}: ${JSON.stringify(body)}`).to.equal(200);
      // Only users: no role, group, client or identity provider is touched.
      for (const kind of ['roles', 'groups', 'clients', 'upstream'] as const) expect([...body[kind].created, ...body[kind].updated], `${name} ${kind}`).to.deep.equal([]);
      expect(body.builtInClients).to.deep.equal([]);
      expect(body.conflicts).to.deep.equal([]);
      created.push(...(body.users.created as string[]));
      if (name === 'acme-dir-users-0.json') {
        // Users of one file come with the realm file's roles (the default role's composite, groups, composites).
        expect((await user('amy-dir'))!.roles).to.deep.equal(['member']);
        expect(await user('cat-dir')).to.equal(undefined);
      }
    }
    expect(created).to.have.members(Object.keys(PASSWORDS));
    const bob = (await user('bob-dir'))!;
    expect(bob._id).to.equal(idOf('bob-dir'));
    expect(bob.groups).to.deep.equal(['/writers']);
    expect(bob.roles).to.have.members(['member', 'editor', 'docs-api:docs.read']);
    expect((await user('dan-dir'))!.roles).to.have.members(['member', 'editor', 'publisher']);
    expect(await user('gil')).to.include({ _id: idOf('gil@acme.test'), email: 'gil@acme.test' });
    expect(await gatehouse.services.upstream.findLink('corp', 'corp-fox-0001')).to.include({ userId: idOf('fox-dir') });

    // A users file again: its users updated, every other one (and the clients) as they were.
    const amyBefore = (await user('amy-dir'))!;
    const again = await callAdmin(gatehouse.url, token, 'POST', '/import/keycloak', read('acme-dir-users-2.json'));
    expect(again.status).to.equal(200);
    expect(again.body.users).to.deep.equal({ created: [], updated: ['eli-dir', 'fox-dir'] });
    expect(await user('amy-dir')).to.deep.equal(amyBefore);
    expect((await gatehouse.services.clients.get('docs-web'))?.metadata.redirect_uris).to.deep.equal(['https://docs.acme.test/callback']);
  });

  it('gatehouse import --keycloak DIR re-imports the directory idempotently: every user updated, gil keeps the username derived for it', async () => {
    const exit = await runCli(['import', '--keycloak', DIR], env);
    expect(exit.code, exit.stderr).to.equal(0);
    expect(exit.stdout).to.include('imported Keycloak realm acme-dir:\n  from acme-dir-realm.json and 4 users files');
    expect(exit.stdout).to.include('users: 0 new, 7 updated');
    expect(exit.stdout).to.include('kept password hashes: argon2 7');
    expect(exit.stdout).to.include('federated identities → links: 0 new, 1 already there');
    expect(exit.stdout).to.not.include('conflict:');
    expect(await user('gil')).to.include({ _id: idOf('gil@acme.test') });
  });

  it("gatehouse export carries the realm's context (keycloak_realms): after an import of the export elsewhere, a users file comes on its own there", async () => {
    const file = join(scratch, 'gatehouse-export.json');
    const exported = await runCli(['export', '--output', file, '--unencrypted', '--json'], env);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(JSON.parse(exported.stdout)).to.include({ keycloak_realms: 1 });
    const target = { ...env, MONGODB_URI: freshDatabaseUri('keycloak_realms_target') };
    try {
      const imported = await runCli(['import', '--input', file, '--json'], target);
      expect(imported.code, imported.stderr).to.equal(0);
      expect(JSON.parse(imported.stdout)).to.deep.include({ keycloak_realms: { created: 1, updated: 0 } });
      // Mapped there with the realm file's roles and groups, as here: bob's group brings editor.
      const users = await runCli(['import', '--keycloak', join(DIR, 'acme-dir-users-0.json'), '--json'], target);
      expect(users.code, users.stderr).to.equal(0);
      const mongo = await connectMongo({ uri: target.MONGODB_URI, timeoutMs: 5000 });
      try {
        const bob = await mongo.db!.collection('users').findOne({ username: 'bob-dir' });
        expect(bob?.roles).to.have.members(['member', 'editor', 'docs-api:docs.read']);
      } finally {
        await mongo.close();
      }
      const again = await runCli(['import', '--input', file, '--json'], target);
      expect(JSON.parse(again.stdout)).to.deep.include({ keycloak_realms: { created: 0, updated: 1 } });
    } finally {
      await dropDatabase(target.MONGODB_URI);
    }
  });

  it("the import's look-ups of current users can be served by an index (one indexed field each; on FerretDB the filter pushed down to PostgreSQL)", async () => {
    const mongo = await connectMongo({ uri: deploy.mongodbUri, timeoutMs: 5000 });
    try {
      const users = mongo.db!.collection('users');
      const ferret = await isFerretDbV1(mongo.db!);
      const indexed = new Set((await users.listIndexes().toArray()).map((index) => Object.keys(index.key as Record<string, unknown>).join(',')));
      for (const filter of [importLookups.byId(idOf('bob-dir')), importLookups.byUsernameKey('bob-dir')]) {
        const fields = Object.keys(filter);
        expect(fields, 'one field a lookup is by').to.have.length(1);
        expect(indexed, `an index on ${fields[0]}`).to.include(fields[0]);
        const plan = JSON.stringify(await users.find(filter as Record<string, unknown>).explain());
        // On FerretDB v1 only a pushed-down filter reaches PostgreSQL's indexes (an `$in` or `$or`
        // is not pushed down: every document is read by FerretDB). Whether PostgreSQL then uses the
        // index is its planner's cost choice — a sequential scan for the handful of users here, an
        // index scan for many — so the plan's node type is not asserted.
        if (ferret) expect(JSON.parse(plan).filterPushdown, plan).to.equal(true);
        else expect(plan, plan).to.not.include('COLLSCAN');
      }
    } finally {
      await mongo.close();
    }
  });

  it('every imported user signs in with their Keycloak password; one through the hosted pages of the imported client, as the same subject', async () => {
    for (const [username, password] of Object.entries(PASSWORDS)) {
      expect((await gatehouse.services.accounts.authenticate(username, `${password}!`, '198.51.100.9')).ok, `${username} with a wrong password`).to.equal(false);
      expect((await gatehouse.services.accounts.authenticate(username, password, '198.51.100.9')).ok, username).to.equal(true);
    }
    const docs = await relyingParty(`${deploy.issuer}/realms/acme-dir`, 'docs-web');
    const request = await authorizationRequest(docs, 'https://docs.acme.test/callback');
    // gil signs in with the address that was their Keycloak username.
    const { callback } = await signIn(new UserAgent(), request.url.href, 'https://docs.acme.test/callback', { username: 'gil@acme.test', password: PASSWORDS.gil });
    const tokens = await oidc.authorizationCodeGrant(docs, callback, request.checks);
    expect(tokens.claims()?.sub).to.equal(idOf('gil@acme.test'));
  });
});
