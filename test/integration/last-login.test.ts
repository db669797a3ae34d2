import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createLastLoginWriter } from '../../src/accounts/last-login.ts';
import { createSignIns, laterOf, signInModel, withLastSignIns, type SignInModel, type SignIns } from '../../src/accounts/sign-ins.ts';
import { ensureUserIndexes, userModel, type UserModel } from '../../src/accounts/user-model.ts';
import { watchMongoCommands } from '../../src/storage/command-watch.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const quiet = { warn: () => {}, info: () => {} };

describe('last sign-in times, written in batches (real MongoDB-wire server)', () => {
  const database = databaseForSuite('last_login');
  let connection: Connection;
  let users: UserModel;
  let rows: SignInModel;
  let signIns: SignIns;
  const commands: string[] = [];

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000, watchCommands: true });
    watchMongoCommands(connection, (_store, command, target) => commands.push(`${command} ${target}`));
    users = userModel(connection);
    rows = signInModel(connection);
    signIns = createSignIns(rows);
    await ensureUserIndexes(users);
    const at = new Date('2026-01-01T00:00:00Z');
    await users.insertMany(
      ['u1', 'u2', 'u3'].map((id) => ({
        _id: id,
        username: id,
        usernameKey: id,
        emailKey: `none:${id}`,
        passwordHash: 'x',
        passwordChangedAt: at,
        createdAt: at,
        updatedAt: at,
      })),
    );
  });
  after(async () => {
    await connection.close();
  });

  it('writes any number of sign-ins with one update command to user_sign_ins, the latest time per user, never touching users', async () => {
    // No timer fires within the test: only flush() writes.
    const writer = createLastLoginWriter({ signIns, logger: quiet, flushIntervalMs: 3_600_000 });
    const t = (second: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, second));
    writer.record('u1', t(1));
    writer.record('u2', t(2));
    writer.record('u1', t(3));
    writer.record('u3', t(4));
    expect(commands.filter((command) => command.startsWith('update'))).to.deep.equal([]);
    commands.length = 0;
    await writer.flush();
    // And one read of users: a user deleted since the note gets no row back (test/integration/user-deletion-late-writes.test.ts).
    expect(commands).to.deep.equal(['update user_sign_ins', 'find users']);
    expect((await users.find({}, { lastLoginAt: 1 }).lean().exec()).map((user) => user.lastLoginAt)).to.deep.equal([null, null, null]);
    const stored = await rows.find().sort({ _id: 1 }).lean().exec();
    expect(stored.map((row) => row.lastLoginAt.toISOString())).to.deep.equal([t(3), t(2), t(4)].map((date) => date.toISOString()));
    await writer.close();
  });

  it('writes what is pending at close', async () => {
    const writer = createLastLoginWriter({ signIns, logger: quiet, flushIntervalMs: 3_600_000 });
    const at = new Date(Date.UTC(2026, 10, 29, 13));
    writer.record('u2', at);
    await writer.close();
    expect((await rows.findById('u2').lean().exec())?.lastLoginAt.toISOString()).to.equal(at.toISOString());
  });

  it('never moves a stored time backwards (two instances flushing out of order)', async () => {
    const later = new Date(Date.UTC(2026, 10, 29, 14));
    await signIns.record([['u3', later]]);
    await signIns.record([['u3', new Date(Date.UTC(2026, 10, 29, 13, 30))]]);
    expect((await rows.findById('u3').lean().exec())?.lastLoginAt.toISOString()).to.equal(later.toISOString());
  });

  it('still counts a legacy time in the user document: readers take the later of the two', async () => {
    const legacy = new Date(Date.UTC(2027, 0, 1));
    await users.updateOne({ _id: 'u1' }, { $set: { lastLoginAt: legacy } }).exec();
    const docs = await users.find({ _id: { $in: ['u1', 'u2'] } }).sort({ _id: 1 }).lean().exec();
    const merged = await withLastSignIns(signIns, docs, (user) => user._id);
    expect(merged.map((user) => user.lastLoginAt?.toISOString())).to.deep.equal([legacy.toISOString(), new Date(Date.UTC(2026, 10, 29, 13)).toISOString()]);
    expect(laterOf(null, undefined)).to.equal(null);
    await signIns.forget('u1');
    expect(await rows.findById('u1').lean().exec()).to.equal(null);
  });
});
