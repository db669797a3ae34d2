import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { emailKey, usernameKey } from '../../src/accounts/normalize.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { runCli } from '../helpers/process.ts';
import { databaseForSuite, randomSecret, serviceUrls } from '../helpers/stores.ts';

const AT = '2026-01-02T03:04:05.000Z';

/** A user as `gatehouse export` writes one. */
function exportedUser(username: string) {
  const id = randomUUID();
  return {
    _id: id,
    username,
    usernameKey: usernameKey(username),
    email: null as string | null,
    emailKey: `none:${id}`,
    emailVerified: false,
    givenName: null,
    familyName: null,
    name: null,
    roles: [],
    groups: [],
    disabled: false,
    passwordHash: null,
    passwordChangedAt: null,
    lastLoginAt: null,
    createdAt: AT,
    updatedAt: AT,
  };
}

/**
 * `gatehouse import` takes usernames by the admin API's rule (letters, digits, `.`, `_`, `-`,
 * 1–64 of them; not the `service-account-` prefix a client's service account is named by): a
 * file with one that breaks it is refused by the check before anything is written, naming the
 * field (`users.3.username`), exit 2 — the dry run too.
 */
describe('gatehouse import: usernames checked as the admin API checks them (real stores, CLI)', function () {
  this.timeout(90_000);
  const database = databaseForSuite('import_usernames');
  const file = join(tmpdir(), `gatehouse-import-usernames-${randomBytes(4).toString('hex')}.json`);
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: database.uri, REDIS_URL: serviceUrls().redisUrl, GATEHOUSE_SECRET: secret, GATEHOUSE_ISSUER: 'http://127.0.0.1:3999' });
  const secret = randomSecret();
  after(() => rmSync(file, { force: true }));

  const usersHeld = async () => {
    const connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    try {
      return (await connection.db!.collection('users').find().toArray()).map((user) => user.username as string).sort();
    } finally {
      await connection.close();
    }
  };
  const importing = async (usernames: string[], dryRun = false) => {
    const users = usernames.map(exportedUser);
    writeFileSync(file, JSON.stringify({ format: 'gatehouse-export', version: 1, admin_audience: 'http://127.0.0.1:3999/admin/api/v1', apis: [], roles: [], groups: [], clients: [], users }), { mode: 0o600 });
    return runCli(['import', '--input', file, '--json', ...(dryRun ? ['--dry-run'] : [])], env());
  };

  for (const [what, bad, problem] of [
    ['a service account\'s prefix', 'Service-Account-billing', 'must not start with "service-account-"'],
    ['a hidden character (right-to-left override)', 'alice\u202Egnp.exe', 'must be 1-64 letters'],
    ['a space', 'alice smith', 'must be 1-64 letters'],
    ['65 characters', 'a'.repeat(65), 'must be 1-64 letters'],
    ['none at all', '', 'must be 1-64 letters'],
  ] as const) {
    it(`${what}: refused naming users.3.username, exit 2, nothing written (the dry run too)`, async () => {
      const usernames = ['alice', 'bob', 'carol', bad];
      for (const dryRun of [true, false]) {
        const refused = await importing(usernames, dryRun);
        expect(refused.code, refused.stderr).to.equal(2);
        expect(refused.stderr).to.include('users.3.username').and.include(problem);
        expect(refused.stderr, 'one line').to.not.include('    at ');
      }
      expect(await usersHeld()).to.deep.equal([]);
    });
  }

  const keysHeld = async () => {
    const connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    try {
      return (await connection.db!.collection('users').find().toArray()).map(({ _id, username, usernameKey, emailKey }) => ({ _id, username, usernameKey, emailKey }));
    } finally {
      await connection.close();
    }
  };
  afterEach(async () => {
    const connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    try {
      await connection.db!.collection('users').deleteMany({});
    } finally {
      await connection.close();
    }
  });
  const importingUsers = async (users: ReturnType<typeof exportedUser>[]) => {
    writeFileSync(file, JSON.stringify({ format: 'gatehouse-export', version: 1, admin_audience: 'http://127.0.0.1:3999/admin/api/v1', apis: [], roles: [], groups: [], clients: [], users }), { mode: 0o600 });
    return runCli(['import', '--input', file, '--json'], env());
  };

  it('the look-up keys are made from the name and address, not taken from the file: an edited usernameKey cannot sign alice in as bob', async () => {
    const alice = { ...exportedUser('Alice'), usernameKey: 'bob', email: 'Alice@Example.COM', emailKey: 'bob@example.com' };
    const carol = { ...exportedUser('carol'), emailKey: 'none:someone-else' };
    const imported = await importingUsers([alice, carol]);
    expect(imported.code, imported.stderr).to.equal(0);
    const held = new Map((await keysHeld()).map((user) => [user.username, user]));
    expect(held.get('Alice')).to.include({ usernameKey: usernameKey('Alice'), emailKey: emailKey('Alice@Example.COM') });
    expect(held.get('carol')).to.include({ usernameKey: 'carol', emailKey: `none:${carol._id}` });
  });

  it('two users whose names are one name to sign in with (Dave, dave) are refused, not both imported under keys the file made different', async () => {
    const upper = exportedUser('Dave');
    const lower = { ...exportedUser('dave'), usernameKey: 'dave-2' };
    const imported = await importingUsers([upper, lower]);
    expect(imported.code, imported.stderr).to.equal(2);
    expect(imported.stderr).to.include('users.1.username').and.include('users.0.username (dave)');
    expect(imported.stderr, 'one line').to.not.include('    at ');
    expect(await keysHeld(), 'nothing written').to.deep.equal([]);
  });

  it('two users with one address (told apart only by case) are refused before anything is written', async () => {
    const first = { ...exportedUser('erin'), email: 'erin@example.com', emailKey: 'erin@example.com' };
    const second = { ...exportedUser('erin2'), email: 'ERIN@Example.com', emailKey: 'erin-2@example.com' };
    const imported = await importingUsers([first, second]);
    expect(imported.code, imported.stderr).to.equal(2);
    expect(imported.stderr).to.include('users.1.email').and.include('users.0.email');
    expect(await keysHeld(), 'nothing written').to.deep.equal([]);
  });

  it('usernames the admin API takes are imported (letters of any script, digits, ".", "_", "-")', async () => {
    const imported = await importing(['alice', 'Ωmega.team', '山田_太郎', 'service-accounts-team']);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(await usersHeld()).to.deep.equal(['alice', 'service-accounts-team', 'Ωmega.team', '山田_太郎'].sort());
  });
});
