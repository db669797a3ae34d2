import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createAccounts, type Accounts } from '../../src/accounts/accounts.ts';
import type { PasswordHasher } from '../../src/accounts/hash-pool.ts';
import { createLastLoginWriter, type LastLoginWriter } from '../../src/accounts/last-login.ts';
import { createSignIns, signInModel } from '../../src/accounts/sign-ins.ts';
import { userModel, type UserModel } from '../../src/accounts/user-model.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, type AccountsHarness } from '../helpers/accounts.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const quiet = { warn: () => {}, info: () => {} };
const ROUNDS = 50;

/**
 * FerretDB v1 runs an update by reading the whole document and writing it back, so two updates
 * of one document at once can lose one. The last-sign-in batch must never be one of the two:
 * a password change or a disable racing a flush of the batch must always survive.
 */
describe('last sign-in batch vs. concurrent account changes (real MongoDB-wire server)', function () {
  this.timeout(60_000);
  const database = databaseForSuite('last_login_race');
  let connection: Connection;
  let users: UserModel;
  let harness: AccountsHarness;
  let writer: LastLoginWriter;
  let accounts: Accounts;
  /** Set by the hasher wrapper: the flush started the moment setPassword's hash is ready, so both writes go out together. */
  let flushing: Promise<void> = Promise.resolve();
  let lastHash = '';

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    users = userModel(connection);
    harness = await accountsHarness({ connection });
    // No timer fires within the test: only flush() writes.
    writer = createLastLoginWriter({ signIns: createSignIns(signInModel(connection)), logger: quiet, flushIntervalMs: 3_600_000 });
    const racing: PasswordHasher = {
      ...harness.hasher,
      hash: async (password) => {
        const hash = await harness.hasher.hash(password);
        lastHash = hash;
        flushing = writer.flush();
        return hash;
      },
    };
    accounts = createAccounts({ users, hasher: racing, limiter: harness.limiter, lastLogins: writer });
  });
  after(async () => {
    await writer.close();
    await harness.close();
    await connection.close();
  });

  it(`keeps every password change that races a flush (${ROUNDS} rounds)`, async () => {
    const user = await harness.accounts.createUser({ username: 'racer', password: 'initial password 0' });
    const lost: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      writer.record(user.id, new Date(Date.UTC(2026, 10, 29, 12, 0, round)));
      await accounts.setPassword(user.id, `changed password ${round}`);
      await flushing;
      const stored = await users.findById(user.id, { passwordHash: 1 }).lean().exec();
      if (stored?.passwordHash !== lastHash) lost.push(round);
    }
    expect(lost, 'rounds whose password change the last-sign-in batch overwrote').to.deep.equal([]);
    const signedIn = await accounts.authenticate('racer', `changed password ${ROUNDS}`, '198.51.100.7');
    expect(signedIn.ok).to.equal(true);
  });

  it(`keeps every disable that races a flush (${ROUNDS} rounds)`, async () => {
    const user = await harness.accounts.createUser({ username: 'racer2', password: 'initial password 0' });
    const lost: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      writer.record(user.id, new Date(Date.UTC(2026, 10, 29, 13, 0, round)));
      await Promise.all([writer.flush(), accounts.disable(user.id)]);
      const stored = await users.findById(user.id, { disabled: 1 }).lean().exec();
      if (stored?.disabled !== true) lost.push(round);
      await accounts.enable(user.id);
    }
    expect(lost, 'rounds whose disable the last-sign-in batch overwrote').to.deep.equal([]);
    // The sign-in times themselves were kept too, apart from the user document.
    const row = await signInModel(connection).findById(user.id).lean().exec();
    expect(row?.lastLoginAt.toISOString()).to.equal(new Date(Date.UTC(2026, 10, 29, 13, 0, ROUNDS)).toISOString());
  });
});
