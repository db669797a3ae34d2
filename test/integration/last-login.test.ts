import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createLastLoginWriter } from '../../src/accounts/last-login.ts';
import { ensureUserIndexes, userModel, type UserModel } from '../../src/accounts/user-model.ts';
import { watchMongoCommands } from '../../src/storage/command-watch.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { dropDatabase, freshDatabaseUri } from '../helpers/stores.ts';

const quiet = { warn: () => {}, info: () => {} };

describe('last sign-in times, written in batches (real MongoDB-wire server)', () => {
  const uri = freshDatabaseUri('last_login');
  let connection: Connection;
  let users: UserModel;
  const commands: string[] = [];

  before(async () => {
    connection = await connectMongo({ uri, timeoutMs: 5000, watchCommands: true });
    watchMongoCommands(connection, (_store, command, target) => commands.push(`${command} ${target}`));
    users = userModel(connection);
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
    await dropDatabase(uri);
  });

  it('writes any number of sign-ins with one update command, the latest time per user', async () => {
    // No timer fires within the test: only flush() writes.
    const writer = createLastLoginWriter({ users, logger: quiet, flushIntervalMs: 3_600_000 });
    const t = (second: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, second));
    writer.record('u1', t(1));
    writer.record('u2', t(2));
    writer.record('u1', t(3));
    writer.record('u3', t(4));
    expect(commands.filter((command) => command.startsWith('update'))).to.deep.equal([]);
    commands.length = 0;
    await writer.flush();
    expect(commands).to.deep.equal(['update users']);
    const stored = await users.find({}, { lastLoginAt: 1 }).sort({ _id: 1 }).lean().exec();
    expect(stored.map((user) => user.lastLoginAt?.toISOString())).to.deep.equal([t(3), t(2), t(4)].map((date) => date.toISOString()));
    await writer.close();
  });

  it('writes what is pending at close', async () => {
    const writer = createLastLoginWriter({ users, logger: quiet, flushIntervalMs: 3_600_000 });
    const at = new Date(Date.UTC(2026, 10, 29, 13));
    writer.record('u2', at);
    await writer.close();
    expect((await users.findById('u2').lean().exec())?.lastLoginAt?.toISOString()).to.equal(at.toISOString());
  });
});
