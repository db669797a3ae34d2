import { expect } from 'chai';
import { PasswordAlreadySetError, PasswordPolicyError, UserNotFoundError } from '../../src/accounts/errors.ts';
import { createPasswordChanges, type PasswordChanges, type PasswordStore } from '../../src/accounts/password-changes.ts';
import type { PasswordHistory } from '../../src/accounts/password-history.ts';
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from '../../src/accounts/password-policy.ts';

/** A "hash" a fake can check: the password behind a prefix. */
const fakeHash = (password: string) => `h:${password}`;

interface FakeUser {
  username: string;
  email: string | null;
  passwordHash: string | null;
  passwordChangedAt: Date | null;
}

/** The password-change path with fakes for every store: what it reads and writes, in order. */
function setup({ policy = DEFAULT_PASSWORD_POLICY, history: remembered = 0 }: { policy?: PasswordPolicy; history?: number } = {}) {
  const users = new Map<string, FakeUser>();
  const histories = new Map<string, string[]>();
  const steps: string[] = [];
  const changed: string[] = [];
  let underLock = false;
  /** Runs inside the lock, before the work: what another writer does while this one waits for it. */
  let beforeWork: (() => void) | undefined;
  /** Runs right after the locked step read the hash: a writer that does not take the lock. */
  let afterRead: (() => void) | undefined;
  const store: PasswordStore = {
    async owner(id) {
      const user = users.get(id);
      return user === undefined ? null : { username: user.username, email: user.email, passwordHash: user.passwordHash };
    },
    async currentHash(id) {
      steps.push(`read${underLock ? ' (locked)' : ''}`);
      const hash = users.get(id)?.passwordHash;
      afterRead?.();
      return hash;
    },
    async writeHash(id, passwordHash, at) {
      steps.push(`write${underLock ? ' (locked)' : ''}`);
      const user = users.get(id);
      if (user === undefined) return false;
      Object.assign(user, { passwordHash, passwordChangedAt: at });
      return true;
    },
  };
  const history: PasswordHistory = {
    async reused(id, password, currentHash, n) {
      if (n <= 0) return false;
      return [...(currentHash === null ? [] : [currentHash]), ...(histories.get(id) ?? []).slice(0, n - 1)].includes(fakeHash(password));
    },
    async remember(id, replacedHash, n) {
      steps.push(`remember${underLock ? ' (locked)' : ''}`);
      histories.set(id, [...(replacedHash === null ? [] : [replacedHash]), ...(histories.get(id) ?? [])].slice(0, Math.max(0, n - 1)));
    },
  };
  const at = new Date('2026-01-02T03:04:05Z');
  const changes: PasswordChanges = createPasswordChanges({
    store,
    hasher: { hash: async (password) => fakeHash(password) },
    history,
    policy: async () => ({ ...policy, history: remembered }),
    async locked(_id, work) {
      underLock = true;
      try {
        beforeWork?.();
        return await work();
      } finally {
        underLock = false;
      }
    },
    onChange: async (id) => void changed.push(id),
    now: () => at,
  });
  const add = (id: string, password: string | null) => users.set(id, { username: id, email: `${id}@example.com`, passwordHash: password === null ? null : fakeHash(password), passwordChangedAt: null });
  return { changes, users, histories, steps, changed, at, add, setBeforeWork: (run: (() => void) | undefined) => (beforeWork = run), setAfterRead: (run: () => void) => (afterRead = run) };
}

const rulesOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(PasswordPolicyError);
  return (error as PasswordPolicyError).unmet.map((one) => one.rule);
};

describe('password changes (src/accounts/password-changes.ts, fakes)', () => {
  it('writes the new hash and remembers the replaced one in the locked step, then announces the change', async () => {
    const { changes, users, histories, steps, changed, at, add } = setup({ history: 3 });
    add('ada', 'first password');
    await changes.set('ada', 'second password');
    expect(users.get('ada')).to.include({ passwordHash: fakeHash('second password'), passwordChangedAt: at });
    expect(histories.get('ada')).to.deep.equal([fakeHash('first password')]);
    expect(steps).to.deep.equal(['read (locked)', 'write (locked)', 'remember (locked)']);
    expect(changed).to.deep.equal(['ada']);
  });

  it('names every rule broken and the history, and writes nothing', async () => {
    const { changes, users, steps, add } = setup({ policy: { ...DEFAULT_PASSWORD_POLICY, notUsername: true, digits: 1 }, history: 2 });
    add('grace', 'grace password 1');
    expect(await rulesOf(changes.set('grace', 'grace'))).to.deep.equal(['too_short', 'digits', 'not_username']);
    expect(await rulesOf(changes.set('grace', 'grace password 1')), 'the current password').to.deep.equal(['history']);
    expect(await rulesOf(changes.check('grace', 'grace password 1'))).to.deep.equal(['history']);
    expect(steps).to.deep.equal([]);
    expect(users.get('grace')?.passwordHash).to.equal(fakeHash('grace password 1'));
  });

  it('check() makes the same checks and sets nothing', async () => {
    const { changes, users, steps, changed, add } = setup();
    add('hedy', 'hedy password');
    await changes.check('hedy', 'another password');
    expect(steps).to.deep.equal([]);
    expect(changed).to.deep.equal([]);
    expect(users.get('hedy')?.passwordHash).to.equal(fakeHash('hedy password'));
  });

  it('an unknown user is UserNotFoundError', async () => {
    const { changes } = setup();
    for (const call of [changes.set('nobody', 'a long password'), changes.check('nobody', 'a long password')]) {
      expect(await call.then(() => undefined, (e: unknown) => e)).to.be.instanceOf(UserNotFoundError);
    }
  });

  it('when another change won the lock first, remembers ITS password and checks the history again against it', async () => {
    const { changes, users, histories, setBeforeWork, add } = setup({ history: 5 });
    add('joan', 'joan password 0');
    // The other change lands between this one's check and its locked step.
    setBeforeWork(() => {
      users.get('joan')!.passwordHash = fakeHash('joan password 1');
      histories.set('joan', [fakeHash('joan password 0')]);
    });
    await changes.set('joan', 'joan password 2');
    expect(histories.get('joan')).to.deep.equal([fakeHash('joan password 1'), fakeHash('joan password 0')]);

    // The same new password as the one that won: it is the current password by now.
    setBeforeWork(() => {
      users.get('joan')!.passwordHash = fakeHash('joan password 3');
    });
    expect(await rulesOf(changes.set('joan', 'joan password 3'))).to.deep.equal(['history']);
    expect(users.get('joan')?.passwordHash).to.equal(fakeHash('joan password 3'));
  });

  it('a first password (firstOnly) is set only while the user has none, decided in the locked step', async () => {
    const { changes, users, steps, setBeforeWork, add } = setup();
    add('kim', null);
    // Another first password lands while this one waits for the lock: this one is refused.
    setBeforeWork(() => {
      users.get('kim')!.passwordHash = fakeHash('the other first password');
    });
    const refused = await changes.set('kim', 'my first password', { firstOnly: true }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(PasswordAlreadySetError);
    expect(users.get('kim')?.passwordHash).to.equal(fakeHash('the other first password'));
    expect(steps).to.deep.equal(['read (locked)']);

    setBeforeWork(undefined);
    add('lee', null);
    await changes.set('lee', 'my first password', { firstOnly: true });
    expect(users.get('lee')?.passwordHash).to.equal(fakeHash('my first password'));
  });

  it('a user deleted before the hash is written gets no history row (UserNotFoundError)', async () => {
    const { changes, users, histories, steps, changed, add, setAfterRead } = setup({ history: 3 });
    add('max', 'max password 0');
    setAfterRead(() => users.delete('max'));
    const outcome = await changes.set('max', 'max password 1').then(() => 'set', (e: unknown) => (e as Error).name);
    expect(outcome).to.equal('UserNotFoundError');
    expect(histories.has('max')).to.equal(false);
    expect(steps).to.deep.equal(['read (locked)', 'write (locked)']);
    expect(changed).to.deep.equal([]);
  });
});
