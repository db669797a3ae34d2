import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { SCHEMA_COLLECTION } from '../../src/storage/index-mark.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { runCli } from '../helpers/process.ts';
import { databasesForSuite, randomSecret } from '../helpers/stores.ts';

/** A user document as a version before the email-key migration stored it (its key: the address lowercased as typed). */
const storedBefore = (id: string, email: string) => {
  const at = new Date();
  return {
    _id: id, username: id, usernameKey: id, email, emailKey: email.toLowerCase(), emailVerified: true,
    givenName: null, familyName: null, name: null, roles: [], groups: [], disabled: false, passwordHash: null, passwordChangedAt: null, lastLoginAt: null, createdAt: at, updatedAt: at,
  };
};

/**
 * The email-key migration (src/accounts/email-key-migration.ts: an internationalized domain keyed
 * in its punycode form) runs once per database — at a server's start, and now at a write
 * command's too: a `gatehouse users create` run on a database an older server marked, before any
 * new server started, re-keys first. A key an older instance writes after that (a rolling
 * upgrade) is still found under either form of the address, and no second account gets it.
 */
describe('gatehouse write commands and email keys stored by an older version (in-process, real stores, no server started)', function () {
  this.timeout(120_000);
  const take = databasesForSuite();
  const secret = randomSecret();
  let uri: string;
  let mongo: Connection;
  const env = () => ({ NODE_ENV: 'test', MONGODB_URI: uri, GATEHOUSE_SECRET: secret });
  const create = (username: string, email: string) => runCli(['users', 'create', '--username', username, '--email', email, '--password-stdin', '--json'], env(), 'correct-horse-battery-9');
  const keyOf = async (id: string) => (await mongo.db!.collection<{ _id: string; emailKey: string }>('users').findOne({ _id: id }))?.emailKey;
  const emailKeysMark = () => mongo.db!.collection<{ _id: string; version?: number }>(SCHEMA_COLLECTION).findOne({ _id: 'email-keys' });

  before(async () => {
    uri = take('cli_email_keys', { fresh: true });
    mongo = await connectMongo({ uri, timeoutMs: 5000 });
    // A database an older version ran on: indexes created and marked, no email-key migration yet.
    expect((await create('dan', 'dan@example.com')).code).to.equal(0);
    await mongo.db!.collection(SCHEMA_COLLECTION).deleteOne({ _id: 'email-keys' as never });
    await mongo.db!.collection('users').insertOne(storedBefore('mia-old', 'Mia@Bücher.example') as never);
  });
  after(() => mongo.close());

  it('a write command on a database an older server marked re-keys the stored addresses first, and marks it', async () => {
    expect(await keyOf('mia-old')).to.equal('mia@bücher.example');
    const made = await create('eve', 'eve@example.com');
    expect(made.code, made.stderr).to.equal(0);
    expect(await keyOf('mia-old')).to.equal('mia@xn--bcher-kva.example');
    expect(await emailKeysMark()).to.deep.include({ version: 1 });
    const duplicate = await create('mia2', 'mia@xn--bcher-kva.example');
    expect(duplicate.code).to.equal(1);
    expect(duplicate.stderr).to.match(/email/i);
  });

  it('a key an older instance writes after the migration (a rolling upgrade): the address in either form is still taken', async () => {
    await mongo.db!.collection('users').insertOne(storedBefore('noa-late', 'noa@bücher.example') as never);
    for (const form of ['noa@xn--bcher-kva.example', 'NOA@BÜCHER.example']) {
      const duplicate = await create(`noa-${form.length}-${form.startsWith('N') ? 'u' : 'p'}`, form);
      expect(duplicate.code, `${form}: ${duplicate.stdout}`).to.equal(1);
      expect(duplicate.stderr).to.match(/email/i);
    }
    expect(await mongo.db!.collection('users').countDocuments({ email: /noa@/i })).to.equal(1);
  });
});
