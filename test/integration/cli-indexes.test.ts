import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { INDEX_VERSION, SCHEMA_COLLECTION } from '../../src/storage/index-mark.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { runCli } from '../helpers/process.ts';
import { databasesForSuite, randomSecret } from '../helpers/stores.ts';

/**
 * The indexes a write command creates on a new database (no Redis: the login counters are in
 * MongoDB), by INDEX_VERSION. A change here must raise INDEX_VERSION (src/storage/index-mark.ts):
 * commands find databases marked by the version before and would not create the new index.
 * Expiry indexes are TTL indexes on MongoDB and plain ones on FerretDB: both read `(expiry)`.
 */
const COMMAND_INDEXES: Readonly<Record<number, Record<string, string[]>>> = {
  1: {
    login_limits: ['expire (expiry)', 'key_unique unique'],
    login_lockouts: ['lockedUntil (expiry)', 'subject'],
    mfa_passkeys: ['userId'],
    mfa_recovery_codes: ['userId'],
    mfa_used_steps: ['userId_step'],
    session_devices: ['userId'],
    user_consents: ['accountId_clientId unique', 'clientId'],
    users: ['emailKey_unique unique', 'groups', 'roles', 'usernameKey_unique unique'],
  },
};

/**
 * A command's start creates only the indexes it needs (src/composition/core.ts, docs/STORAGE.md):
 * none for one that only reads, none where a server or an earlier command marked the database,
 * all of them — the unique ones above all — before the first write on a database nobody marked.
 */
describe('gatehouse commands and the database\'s indexes (in-process, real stores, no server ever started)', function () {
  this.timeout(180_000);
  const take = databasesForSuite();
  const secret = randomSecret();
  let uri: string;
  let mongo: Connection;
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: uri, GATEHOUSE_SECRET: secret });
  const create = (username: string, email?: string) =>
    runCli(['users', 'create', '--username', username, ...(email === undefined ? [] : ['--email', email]), '--password-stdin', '--json'], env(), 'correct-horse-battery-9');
  const indexNames = async (collection: string) => (await mongo.db!.collection(collection).listIndexes().toArray()).map((index) => String(index.name)).sort();
  const mark = () => mongo.db!.collection<{ _id: string; version?: number }>(SCHEMA_COLLECTION).findOne({ _id: 'indexes' });

  beforeEach(async () => {
    uri = take('cli_indexes', { fresh: true });
    mongo = await connectMongo({ uri, timeoutMs: 5000 });
  });
  afterEach(() => mongo.close());

  it('a command that only reads creates no collection, index or mark', async () => {
    for (const args of [['users', 'list'], ['users', 'get', 'nobody'], ['clients', 'list'], ['apis', 'list'], ['consents', 'list', '--user', 'nobody'], ['groups', 'list'], ['keys', 'list'], ['users', 'mfa', 'nobody'], ['audit']]) {
      const result = await runCli([...args, '--json'], env());
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.be.oneOf([0, 1]);
    }
    // Before, each of them created the indexes of 8 collections (users, login_lockouts, login_limits, user_consents, ...).
    expect(await mongo.db!.listCollections({}, { nameOnly: true }).toArray()).to.deep.equal([]);
  });

  it('the first writes on a database without indexes create them first: of two creates of one username (or one email) at once, one wins', async () => {
    const [first, second] = await Promise.all([create('ann'), create('ann')]);
    expect([first.code, second.code].sort(), `${first.stderr}\n${second.stderr}`).to.deep.equal([0, 1]);
    expect(first.stderr + second.stderr).to.match(/username/i);
    const [third, fourth] = await Promise.all([create('bea', 'same@example.com'), create('cid', 'same@example.com')]);
    expect([third.code, fourth.code].sort(), `${third.stderr}\n${fourth.stderr}`).to.deep.equal([0, 1]);
    expect(third.stderr + fourth.stderr).to.match(/email/i);
    expect(await mongo.db!.collection('users').countDocuments()).to.equal(2);
    expect(await indexNames('users')).to.include.members(['usernameKey_unique', 'emailKey_unique']);
    expect((await mark())?.version).to.equal(INDEX_VERSION);
    const created: Record<string, string[]> = {};
    for (const { name } of await mongo.db!.listCollections({}, { nameOnly: true }).toArray()) {
      const indexes = (await mongo.db!.collection(name).listIndexes().toArray())
        .filter((index) => index.name !== '_id_')
        .map((index) => `${String(index.name).replace(/_(ttl|expiry)$/u, ' (expiry)')}${index.unique === true ? ' unique' : ''}`)
        .sort();
      if (indexes.length > 0) created[name] = indexes;
    }
    expect(created, 'the indexes commands create changed: raise INDEX_VERSION in src/storage/index-mark.ts and record them in COMMAND_INDEXES').to.deep.equal(COMMAND_INDEXES[INDEX_VERSION]);
  });

  it('a write on a marked database creates no index; a mark of an older version makes it create them again', async () => {
    expect((await create('dan')).code).to.equal(0);
    // An index gone behind the mark's back stays gone: the command read the mark, not the indexes.
    await mongo.db!.collection('users').dropIndex('roles');
    expect((await create('eve')).code).to.equal(0);
    expect(await indexNames('users')).to.not.include('roles');
    // A database marked by an older version (its indexes may lack one this version adds).
    await mongo.db!.collection<{ _id: string; version?: number }>(SCHEMA_COLLECTION).updateOne({ _id: 'indexes' }, { $set: { version: INDEX_VERSION - 1 } });
    expect((await create('fay')).code).to.equal(0);
    expect(await indexNames('users')).to.include('roles');
    expect((await mark())?.version).to.equal(INDEX_VERSION);
  });
});
