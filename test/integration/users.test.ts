import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { AUTHENTICATION_FAILED } from '../../src/accounts/password-authentication.ts';
import { parseArgon2Hash } from '../../src/accounts/argon2-params.ts';
import { DuplicateUserError, InvalidUserError, PasswordPolicyError, UserNotFoundError } from '../../src/accounts/errors.ts';
import { createSignIns, signInModel } from '../../src/accounts/sign-ins.ts';
import { createUserAdmin } from '../../src/accounts/user-admin.ts';
import { ensureUserIndexes, userModel, type StoredUser } from '../../src/accounts/user-model.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, randomIp, type AccountsHarness } from '../helpers/accounts.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  return expect.fail('expected a rejection');
}

describe('users (real MongoDB-wire server)', () => {
  const database = databaseForSuite('users');
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

  it('creates a user whose id is a random UUID, never the username, and hides the hash', async () => {
    const user = await h.accounts.createUser({
      username: 'Alice',
      email: 'Alice@Example.COM',
      password: 'alice-password',
      givenName: 'Alice',
      familyName: 'Liddell',
      name: 'Alice Liddell',
      roles: ['admin', 'admin', 'reader'],
      groups: ['staff'],
    });
    expect(user.id).to.match(UUID);
    expect(user).to.include({ username: 'Alice', email: 'Alice@Example.COM', emailVerified: false, disabled: false, name: 'Alice Liddell' });
    expect(user.roles).to.deep.equal(['admin', 'reader']);
    expect(user).not.to.have.property('passwordHash');
    const stored = await userModel(connection).findById(user.id).lean<StoredUser>().exec();
    expect(stored?.usernameKey).to.equal('alice');
    expect(stored?.emailKey).to.equal('alice@example.com');
    expect(stored?.passwordHash).to.match(/^\$argon2id\$/);
    expect(stored?.createdAt).to.be.instanceOf(Date);
  });

  it('finds users by id, and by username or email in any case', async () => {
    const created = await h.accounts.createUser({ username: 'Bob.Smith', email: 'bob@example.com', password: 'bob-password' });
    expect((await h.accounts.findById(created.id))?.username).to.equal('Bob.Smith');
    expect((await h.accounts.findByLogin('bob.smith'))?.id).to.equal(created.id);
    expect((await h.accounts.findByLogin('  BOB.SMITH '))?.id).to.equal(created.id);
    expect((await h.accounts.findByLogin('BOB@EXAMPLE.COM'))?.id).to.equal(created.id);
    expect(await h.accounts.findByLogin('nobody')).to.equal(undefined);
    expect(await h.accounts.findById('00000000-0000-4000-8000-000000000000')).to.equal(undefined);
  });

  /**
   * FerretDB does not push `$or` down: a login looked up by username OR email scanned every user
   * (153 ms at 5,000 users on FerretDB/PostgreSQL against 3 ms by one key; docs/PERFORMANCE.md).
   */
  it('looks a login up by one key: a username by usernameKey, an email by emailKey and usernameKey at once (an imported username may hold @)', async () => {
    const sent: Array<Record<string, unknown>> = [];
    const created = await h.accounts.createUser({ username: 'gwen', email: 'gwen@example.com', password: 'gwen-password' });
    // Keycloak allows @ in usernames, and the import keeps them (src/keycloak/map-users.ts).
    const now = new Date();
    await userModel(connection).collection.insertOne({
      _id: 'kc-hana', username: 'hana@corp', usernameKey: 'hana@corp', email: 'hana@example.com', emailKey: 'hana@example.com', emailVerified: true,
      givenName: null, familyName: null, name: null, roles: [], groups: [], disabled: false, passwordHash: null, passwordChangedAt: null, lastLoginAt: null, createdAt: now, updatedAt: now,
    } satisfies StoredUser as never);
    connection.set('debug', (collection: string, method: string, filter: Record<string, unknown>) => {
      if (collection === 'users' && method === 'findOne') sent.push(filter);
    });
    try {
      expect((await h.accounts.findByLogin('Gwen'))?.id).to.equal(created.id);
      expect((await h.accounts.findByLogin('GWEN@example.com'))?.id).to.equal(created.id);
      expect((await h.accounts.findByLogin('hana@corp'))?.id).to.equal('kc-hana');
      expect((await h.accounts.findByLogin('hana@example.com'))?.id).to.equal('kc-hana');
      // A user without an email has emailKey `none:<id>`; that is no login.
      expect(await h.accounts.findByLogin('none:kc-hana')).to.equal(undefined);
    } finally {
      connection.set('debug', false);
    }
    expect(sent).to.deep.equal([
      { usernameKey: 'gwen' },
      // With @: both keys, always (the same reads whether the email exists or not).
      { emailKey: 'gwen@example.com' },
      { usernameKey: 'gwen@example.com' },
      { emailKey: 'hana@corp' },
      { usernameKey: 'hana@corp' },
      { emailKey: 'hana@example.com' },
      { usernameKey: 'hana@example.com' },
      { usernameKey: 'none:kc-hana' },
    ]);
  });

  it('refuses a username or email that differs from an existing one only in case', async () => {
    await h.accounts.createUser({ username: 'carol', email: 'carol@example.com', password: 'carol-password' });
    const sameName = await rejection(h.accounts.createUser({ username: 'CAROL', password: 'another-password' }));
    expect(sameName).to.be.instanceOf(DuplicateUserError).with.property('field', 'username');
    const sameEmail = await rejection(h.accounts.createUser({ username: 'carol2', email: 'Carol@Example.com', password: 'another-password' }));
    expect(sameEmail).to.be.instanceOf(DuplicateUserError).with.property('field', 'email');
  });

  it('lets any number of users have no email (FerretDB ignores sparse indexes)', async () => {
    const created = [];
    for (const username of ['dave', 'erin', 'frank']) {
      created.push(await h.accounts.createUser({ username, password: `${username}-password`, email: username === 'erin' ? '' : null }));
    }
    expect(created.map((u) => u.email)).to.deep.equal([null, null, null]);
    expect(new Set(created.map((u) => u.id)).size).to.equal(3);
  });

  it('enforces uniqueness in the database itself, not only in the service pre-check', async () => {
    const users = userModel(connection);
    await ensureUserIndexes(users); // idempotent at startup
    const existing = await users.findOne({ usernameKey: 'carol' }).lean<StoredUser>().exec();
    expect(existing).not.to.equal(null);
    const copy = { ...existing!, _id: 'copy-1', username: 'Carol', emailKey: 'other@example.com' };
    expect((await rejection(users.collection.insertOne(copy as never))) as Error & { code?: number }).to.have.property('code', 11000);
    const emailCopy = { ...existing!, _id: 'copy-2', username: 'carol3', usernameKey: 'carol3' };
    expect((await rejection(users.collection.insertOne(emailCopy as never))) as Error & { code?: number }).to.have.property('code', 11000);
  });

  it('names the right field when a racing create takes the email between the pre-check and the insert', async () => {
    // The hasher runs after the service's pre-check: a rival create lands there, so only the
    // database's unique index sees the clash (the error text differs between MongoDB and FerretDB's
    // backends: FerretDB on PostgreSQL lower-cases the index name).
    const racing = await accountsHarness({
      connection,
      extra: {
        hasher: {
          ...h.hasher,
          hash: async (password: string) => {
            await h.accounts.createUser({ username: 'rival-ivy', email: 'ivy@example.com', password: 'rival-password' });
            return h.hasher.hash(password);
          },
        },
      },
    });
    try {
      const clash = await rejection(racing.accounts.createUser({ username: 'ivy', email: 'Ivy@Example.com', password: 'ivy-password' }));
      expect(clash).to.be.instanceOf(DuplicateUserError).with.property('field', 'email');
    } finally {
      await racing.close();
    }
  });

  it('validates usernames, emails and the password policy (8 to 1024 characters)', async () => {
    expect(await rejection(h.accounts.createUser({ username: 'has@sign', password: 'long-enough' }))).to.be.instanceOf(InvalidUserError);
    expect(await rejection(h.accounts.createUser({ username: 'ok', email: 'not-an-email', password: 'long-enough' }))).to.be.instanceOf(InvalidUserError);
    // Every path into createUser (admin API, CLI, bootstrap, registration, upstream sign-in) meets its own check of the name.
    for (const username of ['service-account-billing', 'bob\u202Egnp.exe', 'x'.repeat(65), '']) {
      expect(await rejection(h.accounts.createUser({ username, password: 'long-enough' })), JSON.stringify(username)).to.be.instanceOf(InvalidUserError).with.property('field', 'username');
    }
    const short = await rejection(h.accounts.createUser({ username: 'shorty', password: '1234567' }));
    expect(short).to.be.instanceOf(PasswordPolicyError).with.property('rule', 'too_short');
    const long = await rejection(h.accounts.createUser({ username: 'longy', password: 'x'.repeat(1025) }));
    expect(long).to.be.instanceOf(PasswordPolicyError).with.property('rule', 'too_long');
    expect((await h.accounts.createUser({ username: 'exact', password: '12345678' })).username).to.equal('exact');
  });

  it('sets a new password: the old one stops working', async () => {
    const user = await h.accounts.createUser({ username: 'grace', password: 'first-password' });
    await h.accounts.setPassword(user.id, 'second-password');
    expect(await h.accounts.authenticate('grace', 'first-password', randomIp())).to.equal(AUTHENTICATION_FAILED);
    expect((await h.accounts.authenticate('grace', 'second-password', randomIp())).ok).to.equal(true);
    expect(await rejection(h.accounts.setPassword(user.id, 'short'))).to.be.instanceOf(PasswordPolicyError);
    expect(await rejection(h.accounts.setPassword('missing', 'long-enough'))).to.be.instanceOf(UserNotFoundError);
  });

  it('keeps a user without a password: a password sign-in fails (same answer) until one is set', async () => {
    const user = await h.accounts.createUser({ username: 'passkey-only', email: 'pk@example.com' });
    expect(user.passwordChangedAt).to.equal(null);
    expect((await userModel(connection).findById(user.id).lean<StoredUser>().exec())?.passwordHash).to.equal(null);
    expect(await h.accounts.authenticate('passkey-only', 'any-password-at-all', randomIp())).to.equal(AUTHENTICATION_FAILED);
    expect(h.events.at(-1)).to.include({ outcome: 'failure', reason: 'no_password', userId: user.id });
    await h.accounts.setPassword(user.id, 'now-with-password');
    expect((await h.accounts.authenticate('pk@example.com', 'now-with-password', randomIp())).ok).to.equal(true);
    expect((await h.accounts.findById(user.id))?.passwordChangedAt).to.be.instanceOf(Date);
  });

  it('disables and re-enables: isActive follows, so findAccount can end sessions', async () => {
    const user = await h.accounts.createUser({ username: 'heidi', password: 'heidi-password' });
    expect(await h.accounts.isActive(user.id)).to.equal(true);
    await h.accounts.disable(user.id);
    expect(await h.accounts.isActive(user.id)).to.equal(false);
    expect((await h.accounts.findById(user.id))?.disabled).to.equal(true);
    await h.accounts.enable(user.id);
    expect(await h.accounts.isActive(user.id)).to.equal(true);
    expect(await h.accounts.isActive('no-such-user')).to.equal(false);
    expect(await rejection(h.accounts.disable('no-such-user'))).to.be.instanceOf(UserNotFoundError);
  });

  it('upgrades a hash made with old parameters on the next successful login', async () => {
    const old = await accountsHarness({ connection, params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } });
    const user = await old.accounts.createUser({ username: 'ivan', password: 'ivan-password' });
    await old.close();
    const current = await accountsHarness({ connection, params: { memoryKiB: 2048, iterations: 2, parallelism: 1 } });
    try {
      const hashOf = async () => (await userModel(connection).findById(user.id).lean<StoredUser>().exec())!.passwordHash!;
      const before = await hashOf();
      expect(parseArgon2Hash(before)).to.include({ memoryKiB: 1024, iterations: 1 });

      expect(await current.accounts.authenticate('ivan', 'wrong-password', randomIp())).to.equal(AUTHENTICATION_FAILED);
      expect(await hashOf()).to.equal(before); // a failed login never rewrites the hash

      expect((await current.accounts.authenticate('ivan', 'ivan-password', randomIp())).ok).to.equal(true);
      const after = await hashOf();
      expect(parseArgon2Hash(after)).to.include({ algorithm: 'argon2id', memoryKiB: 2048, iterations: 2, parallelism: 1 });
      expect(current.events.at(-1)).to.include({ outcome: 'success', rehashed: true });

      expect((await current.accounts.authenticate('ivan', 'ivan-password', randomIp())).ok).to.equal(true);
      expect(await hashOf()).to.equal(after);
      expect(current.events.at(-1)).to.include({ outcome: 'success', rehashed: false });
    } finally {
      await current.close();
    }
  });

  it('writes a sign-in time to user_sign_ins (without a batch writer), never into the user document; operator views read it there', async () => {
    const user = await h.accounts.createUser({ username: 'signer', password: 'signer-password' });
    const result = await h.accounts.authenticate('signer', 'signer-password', randomIp());
    expect(result.ok).to.equal(true);
    const stored = await userModel(connection).findById(user.id).lean<StoredUser>().exec();
    expect(stored?.lastLoginAt ?? null).to.equal(null);
    const row = await signInModel(connection).findById(user.id).lean().exec();
    expect(row?.lastLoginAt).to.be.instanceOf(Date);
    const admin = createUserAdmin({ users: userModel(connection), signIns: createSignIns(signInModel(connection)) });
    const fresh = await h.accounts.findById(user.id);
    expect((await admin.withLastSignIn(fresh!)).lastLoginAt?.toISOString()).to.equal(row?.lastLoginAt.toISOString());
    const page = await admin.search({ query: 'signer', limit: 10, offset: 0 });
    expect(page.users.map((one) => one.lastLoginAt?.toISOString())).to.deep.equal([row?.lastLoginAt.toISOString()]);
    const exported = (await admin.exportAll()).find((one) => one._id === user.id);
    expect(exported?.lastLoginAt?.toISOString()).to.equal(row?.lastLoginAt.toISOString());
  });
});
