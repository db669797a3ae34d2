import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { createAccounts, type Accounts } from '../../src/accounts/accounts.ts';
import type { PasswordHasher } from '../../src/accounts/hash-pool.ts';
import { createPasswordChanges, passwordStore, type PasswordStore } from '../../src/accounts/password-changes.ts';
import { createPasswordHistory, passwordHistoryModel } from '../../src/accounts/password-history.ts';
import { DEFAULT_PASSWORD_POLICY } from '../../src/accounts/password-policy.ts';
import { createSignIns, signInModel } from '../../src/accounts/sign-ins.ts';
import { createUserAdmin, type UserAdmin } from '../../src/accounts/user-admin.ts';
import { userModel, type UserModel } from '../../src/accounts/user-model.ts';
import { createLabelDirectory } from '../../src/roles/directory.ts';
import { labelModel } from '../../src/roles/model.ts';
import { documentLocks, lockKey } from '../../src/storage/document-locks.ts';
import { connectMongo } from '../../src/storage/mongo.ts';
import { accountsHarness, randomIp, type AccountsHarness } from '../helpers/accounts.ts';
import { databaseForSuite } from '../helpers/stores.ts';

const ROUNDS = 40;

/**
 * FerretDB v1 runs an update by reading the whole document and writing it back, so two writers
 * of one user at once can lose one change (docs/STORAGE.md). Every writer of a user document
 * holds the user's lock (src/storage/document-locks.ts): here two writers race, round after
 * round, on the real MongoDB-wire server, and both changes must survive every round.
 */
describe('concurrent writes of one user (real MongoDB-wire server)', function () {
  this.timeout(120_000);
  const database = databaseForSuite('user_write_race');
  let connection: Connection;
  let users: UserModel;
  let harness: AccountsHarness;
  let accounts: Accounts;
  let admin: UserAdmin;

  before(async () => {
    connection = await connectMongo({ uri: database.uri, timeoutMs: 5000 });
    users = userModel(connection);
    harness = await accountsHarness({ connection });
    accounts = harness.accounts;
    admin = createUserAdmin({ users, signIns: createSignIns(signInModel(connection)) });
  });
  after(async () => {
    await harness.close();
    await connection.close();
  });

  it(`keeps a disable that races an operator's role edit (${ROUNDS} rounds)`, async () => {
    const user = await accounts.createUser({ username: 'race-disable', password: 'initial password 0' });
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const roles = [`role-${round}`];
      await Promise.all([accounts.disable(user.id), admin.update(user.id, { roles })]);
      const stored = await users.findById(user.id, { disabled: 1, roles: 1 }).lean().exec();
      if (stored?.disabled !== true) lost.push(`${round}: disable`);
      if (JSON.stringify(stored?.roles) !== JSON.stringify(roles)) lost.push(`${round}: roles`);
      await accounts.enable(user.id);
    }
    expect(lost, 'rounds that lost one of the two changes').to.deep.equal([]);
  });

  it(`keeps a password change that races an operator's profile edit (${ROUNDS} rounds)`, async () => {
    const user = await accounts.createUser({ username: 'race-password', password: 'initial password 0' });
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const before = await users.findById(user.id, { passwordHash: 1 }).lean().exec();
      await Promise.all([accounts.setPassword(user.id, `changed password ${round}`), admin.update(user.id, { name: `Name ${round}` })]);
      const stored = await users.findById(user.id, { passwordHash: 1, name: 1 }).lean().exec();
      if (stored?.passwordHash === before?.passwordHash) lost.push(`${round}: password`);
      if (stored?.name !== `Name ${round}`) lost.push(`${round}: name`);
    }
    expect(lost, 'rounds that lost one of the two changes').to.deep.equal([]);
    expect((await accounts.authenticate('race-password', `changed password ${ROUNDS}`, randomIp())).ok).to.equal(true);
  });

  it('remembers every replaced password when two password changes of one user run at once (password history)', async () => {
    const history = createAccounts({ users, hasher: harness.hasher, limiter: harness.limiter, passwordPolicy: { ...DEFAULT_PASSWORD_POLICY, history: 100 } });
    const user = await history.createUser({ username: 'race-history', password: 'history password 0' });
    const rounds = 8;
    const problems: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      await Promise.all([history.setPassword(user.id, `history password ${round}a`), history.setPassword(user.id, `history password ${round}b`)]);
      // Every password set so far but the current one: the first and both of each round, less one.
      const remembered = (await passwordHistoryModel(connection).findById(user.id).lean().exec())?.hashes ?? [];
      const current = (await users.findById(user.id, { passwordHash: 1 }).lean().exec())?.passwordHash;
      if (remembered.length !== 2 * round) problems.push(`${round}: ${remembered.length} remembered, not ${2 * round}`);
      if (new Set(remembered).size !== remembered.length) problems.push(`${round}: one hash remembered twice`);
      if (remembered.includes(current as string)) problems.push(`${round}: the current hash is in the history`);
    }
    expect(problems, 'rounds whose history lost a replaced password').to.deep.equal([]);
  });

  it('refuses the second of two changes to the same new password made at once (it is the current password by then)', async () => {
    const history = createAccounts({ users, hasher: harness.hasher, limiter: harness.limiter, passwordPolicy: { ...DEFAULT_PASSWORD_POLICY, history: 3 } });
    const user = await history.createUser({ username: 'race-same', password: 'same password 0' });
    const outcomes: string[] = [];
    for (let round = 1; round <= 8; round++) {
      const settled = await Promise.allSettled([history.setPassword(user.id, `same password ${round}`), history.setPassword(user.id, `same password ${round}`)]);
      const refused = settled.filter((result) => result.status === 'rejected' && (result.reason as Error).name === 'PasswordPolicyError').length;
      if (refused !== 1) outcomes.push(`${round}: ${refused} refused (${settled.map((result) => result.status).join(', ')})`);
    }
    expect(outcomes, 'rounds where both (or neither) were accepted').to.deep.equal([]);
  });

  it('leaves no password_history row behind for a user deleted while their password was being changed', async () => {
    const user = await accounts.createUser({ username: 'race-deleted', password: 'deleted password 0' });
    const real = passwordStore(users);
    // The user is deleted right after the locked step read their hash, before it writes.
    const store: PasswordStore = {
      ...real,
      async currentHash(id) {
        const hash = await real.currentHash(id);
        await users.deleteOne({ _id: id }).exec();
        return hash;
      },
    };
    const changes = createPasswordChanges({
      store,
      hasher: harness.hasher,
      history: createPasswordHistory({ model: passwordHistoryModel(connection), hasher: harness.hasher }),
      policy: async () => ({ ...DEFAULT_PASSWORD_POLICY, history: 5 }),
      locked: (id, work) => documentLocks(connection).hold(lockKey('users', id), work),
      onChange: async () => {},
      now: () => new Date(),
    });
    const outcome = await changes.set(user.id, 'deleted password 1').then(
      () => 'set',
      (error: unknown) => (error as Error).name,
    );
    expect(await passwordHistoryModel(connection).findById(user.id).lean().exec(), 'an orphan history row').to.equal(null);
    expect(outcome).to.equal('UserNotFoundError');
  });

  it(`keeps a role assignment that races a disable (${ROUNDS} rounds)`, async () => {
    const roles = createLabelDirectory({ kind: 'role', model: labelModel(connection, 'role'), users });
    const user = await accounts.createUser({ username: 'race-role', password: 'initial password 0' });
    const lost: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await Promise.all([accounts.disable(user.id), roles.assign(user.id, `assigned-${round}`)]);
      const stored = await users.findById(user.id, { disabled: 1, roles: 1 }).lean().exec();
      if (stored?.disabled !== true) lost.push(`${round}: disable`);
      if (!stored?.roles.includes(`assigned-${round}`)) lost.push(`${round}: role`);
      await accounts.enable(user.id);
    }
    expect(lost, 'rounds that lost one of the two changes').to.deep.equal([]);
  });

  it(`never lets the hash upgrade at sign-in undo a password change made meanwhile (${ROUNDS} rounds)`, async () => {
    const user = await accounts.createUser({ username: 'race-rehash', password: 'password 0' });
    // The password change's hash is made first; the upgrade's hash is handed back the moment the
    // change's is ready, so both writes go out together.
    let changing: Promise<void> = Promise.resolve();
    let next = '';
    let changeReady: () => void = () => {};
    const changeHasher: PasswordHasher = {
      ...harness.hasher,
      hash: async (password) => {
        const hash = await harness.hasher.hash(password);
        changeReady();
        return hash;
      },
    };
    const changer = createAccounts({ users, hasher: changeHasher, limiter: harness.limiter });
    const upgrading: PasswordHasher = {
      ...harness.hasher,
      needsRehash: () => true,
      hash: async (password) => {
        const hash = await harness.hasher.hash(password);
        const ready = new Promise<void>((resolve) => (changeReady = resolve));
        changing = changer.setPassword(user.id, next);
        await ready;
        return hash;
      },
    };
    const signer = createAccounts({ users, hasher: upgrading, limiter: harness.limiter });
    const lost: number[] = [];
    let current = 'password 0';
    for (let round = 1; round <= ROUNDS; round++) {
      next = `password ${round}`;
      const signedIn = await signer.authenticate('race-rehash', current, randomIp());
      expect(signedIn.ok, `round ${round}: sign-in with the current password`).to.equal(true);
      await changing;
      current = next;
      const stored = await users.findById(user.id, { passwordHash: 1 }).lean().exec();
      if (!(await harness.hasher.verify(stored!.passwordHash!, current))) lost.push(round);
    }
    expect(lost, 'rounds whose password change the hash upgrade overwrote').to.deep.equal([]);
  });
});
