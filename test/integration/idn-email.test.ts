import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { migrateEmailKeys } from '../../src/accounts/email-key-migration.ts';
import { DuplicateUserError } from '../../src/accounts/errors.ts';
import { openPasswordResets } from '../../src/accounts/password-resets.ts';
import { importLookups } from '../../src/accounts/user-admin.ts';
import { userModel, type StoredUser } from '../../src/accounts/user-model.ts';
import { SCHEMA_COLLECTION } from '../../src/storage/index-mark.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, randomIp, type AccountsHarness } from '../helpers/accounts.ts';
import { databaseForSuite } from '../helpers/stores.ts';

/** A user document as an earlier version stored it: its emailKey given as that version computed it. */
function storedUser(id: string, email: string, key: string): StoredUser {
  const at = new Date();
  return {
    _id: id, username: id, usernameKey: id, email, emailKey: key, emailVerified: true,
    givenName: null, familyName: null, name: null, roles: [], groups: [], disabled: false, passwordHash: null, passwordChangedAt: null, lastLoginAt: null, createdAt: at, updatedAt: at,
  } satisfies StoredUser;
}

describe('internationalized email domains: one account per address in either form (real MongoDB-wire server)', () => {
  const database = databaseForSuite('idn_email');
  let connection: Connection;
  let h: AccountsHarness;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    h = await accountsHarness({ connection });
  });
  after(async () => {
    await h.close();
    await connection.close();
  });

  it('a user created with the Unicode form is found, signs in and is a duplicate under the punycode form; the address is shown as typed', async () => {
    const ana = await h.accounts.createUser({ username: 'ana', email: 'ana@bücher.example', password: 'ana-password-1' });
    expect(ana.email).to.equal('ana@bücher.example');
    const stored = await userModel(connection).findById(ana.id).lean<StoredUser>().exec();
    expect(stored?.emailKey).to.equal('ana@xn--bcher-kva.example');
    expect((await h.accounts.findByLogin('ana@xn--bcher-kva.example'))?.id).to.equal(ana.id);
    expect((await h.accounts.findByLogin('ANA@BÜCHER.example'))?.id).to.equal(ana.id);
    const signedIn = await h.accounts.authenticate('ana@XN--BCHER-KVA.example', 'ana-password-1', randomIp());
    expect(signedIn).to.have.nested.property('user.id', ana.id);
    const duplicate = await h.accounts.createUser({ username: 'ana2', email: 'ana@xn--bcher-kva.example', password: 'ana-password-2' }).catch((error: unknown) => error);
    expect(duplicate).to.be.instanceOf(DuplicateUserError).and.to.have.property('field', 'email');
  });

  it('guesses at an unknown address count under one key in either form: the lock comes as for a known user (no enumeration by the count)', async () => {
    const ip = randomIp();
    // TEST_LOCKOUT_POLICY: three failures from one IP lock the login there.
    for (const login of ['zoe@bücher.example', 'zoe@xn--bcher-kva.example', 'ZOE@BÜCHER.EXAMPLE', 'zoe@xn--bcher-kva.example']) {
      await h.accounts.authenticate(login, 'wrong-password', ip);
    }
    expect(h.events.at(-1)).to.include({ outcome: 'failure', reason: 'locked' });
  });

  it('a reset link stored with the key of the address as it was computed before still works', async () => {
    const holder = async () => ({ email: 'lea@bücher.example', passwordChangedAt: null, disabled: false });
    const resets = await openPasswordResets({ mongo: connection, holder, ttlSeconds: async () => 3600 });
    const token = (await resets.issue('lea'))!;
    await connection.db!.collection('password_resets').updateOne({ userId: 'lea' }, { $set: { sentTo: 'lea@bücher.example' } });
    expect((await resets.check(token))?.userId).to.equal('lea');
  });

  it('a key an older version stored (not migrated yet, or written by an old instance during a rolling upgrade) is found by either form of the address and stays unique', async () => {
    await userModel(connection).collection.insertOne(storedUser('uma-old', 'Uma@Bücher.example', 'uma@bücher.example') as never);
    expect((await h.accounts.findByLogin('uma@xn--bcher-kva.example'))?.id).to.equal('uma-old');
    expect((await h.accounts.findByLogin('UMA@bücher.EXAMPLE'))?.id).to.equal('uma-old');
    const duplicate = await h.accounts.createUser({ username: 'uma2', email: 'uma@xn--bcher-kva.example', password: 'uma-password-2' }).catch((error: unknown) => error);
    expect(duplicate).to.be.instanceOf(DuplicateUserError).and.to.have.property('field', 'email');
    await userModel(connection).collection.updateOne({ _id: 'uma-old' as never }, { $set: { emailVerified: false } });
    expect(await h.accounts.verifyEmail('uma-old', 'uma@xn--bcher-kva.example'), 'its confirmation link confirms it').to.equal(true);
    const importHolder = await userModel(connection).collection.findOne(importLookups.byEmailKey('uma@xn--bcher-kva.example') as never);
    expect(importHolder?._id, 'an import finds who holds the address').to.equal('uma-old');
    await userModel(connection).collection.deleteOne({ _id: 'uma-old' as never });
  });

  it('the migration rewrites stored keys of internationalized domains once (idempotent), keeps a user whose new key another holds, and marks the database', async () => {
    const users = userModel(connection).collection;
    await users.insertMany([
      storedUser('mig-old', 'Mia@Bücher.example', 'mia@bücher.example'),
      storedUser('mig-ascii', 'max@example.org', 'max@example.org'),
      // The same mailbox stored twice by an earlier version: both forms, two accounts.
      storedUser('mig-uni', 'noa@bücher.example', 'noa@bücher.example'),
      storedUser('mig-puny', 'noa@xn--bcher-kva.example', 'noa@xn--bcher-kva.example'),
    ] as never[]);
    const keyOf = async (id: string) => (await users.findOne<StoredUser>({ _id: id as never }))?.emailKey;
    const marks = connection.db!.collection<{ _id: string }>(SCHEMA_COLLECTION);

    const first = await migrateEmailKeys(connection);
    expect(first).to.deep.equal({ rekeyed: 1, conflicts: ['mig-uni'] });
    expect(await keyOf('mig-old')).to.equal('mia@xn--bcher-kva.example');
    expect((await users.findOne<StoredUser>({ _id: 'mig-old' as never }))?.email, 'the address as stored').to.equal('Mia@Bücher.example');
    expect(await keyOf('mig-ascii')).to.equal('max@example.org');
    expect(await keyOf('mig-uni'), 'left alone: the other account holds the address').to.equal('noa@bücher.example');
    expect(await keyOf('mig-puny')).to.equal('noa@xn--bcher-kva.example');
    expect((await h.accounts.findByLogin('mia@xn--bcher-kva.example'))?.id).to.equal('mig-old');
    expect(await marks.findOne({ _id: 'email-keys' }), 'a conflict left: the next start tries again').to.equal(null);

    // The operator gives one of the two another address; the next start finishes and marks.
    await users.deleteOne({ _id: 'mig-puny' as never });
    expect(await migrateEmailKeys(connection)).to.deep.equal({ rekeyed: 1, conflicts: [] });
    expect(await keyOf('mig-uni')).to.equal('noa@xn--bcher-kva.example');
    expect(await marks.findOne({ _id: 'email-keys' })).to.deep.include({ version: 1 });
    expect(await migrateEmailKeys(connection), 'marked: nothing read, nothing written').to.deep.equal({ rekeyed: 0, conflicts: [] });
    await marks.deleteOne({ _id: 'email-keys' });
    expect(await migrateEmailKeys(connection), 'without the mark: every key already current').to.deep.equal({ rekeyed: 0, conflicts: [] });
  });
});
