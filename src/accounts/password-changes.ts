import { PasswordAlreadySetError, PasswordPolicyError, unmetRule, UserNotFoundError } from './errors.ts';
import type { PasswordHasher } from './hash-pool.ts';
import type { PasswordHistory } from './password-history.ts';
import { checkPassword, type PasswordOwner, type PasswordPolicy } from './password-policy.ts';
import type { UserChangeHook } from './user-changes.ts';
import type { StoredUser, UserModel } from './user-model.ts';

/** What a password change reads and writes of the user document. */
export interface PasswordStore {
  /** The user as the policy compares a new password with them, and their hash; null when there is no such user. */
  owner(id: string): Promise<(PasswordOwner & { readonly passwordHash: string | null }) | null>;
  /** The stored hash (null: no password), read under the user's lock; undefined when there is no such user. */
  currentHash(id: string): Promise<string | null | undefined>;
  /** Writes the new hash; false when the user is gone. */
  writeHash(id: string, passwordHash: string, at: Date): Promise<boolean>;
}

/** The user document in `users` as a PasswordStore. */
export function passwordStore(users: UserModel): PasswordStore {
  return {
    async owner(id) {
      return users.findById(id, { username: 1, email: 1, passwordHash: 1 }).lean<Pick<StoredUser, 'username' | 'email' | 'passwordHash'>>().exec();
    },
    async currentHash(id) {
      const found = await users.findById(id, { passwordHash: 1 }).lean<Pick<StoredUser, 'passwordHash'>>().exec();
      return found === null ? undefined : found.passwordHash;
    },
    async writeHash(id, passwordHash, at) {
      const result = await users.updateOne({ _id: id }, { $set: { passwordHash, passwordChangedAt: at, updatedAt: at } }).exec();
      return result.matchedCount === 1;
    },
  };
}

export interface PasswordChangesDeps {
  readonly store: PasswordStore;
  readonly hasher: Pick<PasswordHasher, 'hash'>;
  readonly history: PasswordHistory;
  /** The policy in force, read at each change (a runtime setting). */
  readonly policy: () => Promise<PasswordPolicy>;
  /** Runs `work` holding the user's document lock (`users:<id>`, docs/STORAGE.md). */
  readonly locked: <T>(id: string, work: () => Promise<T>) => Promise<T>;
  readonly onChange: UserChangeHook;
  readonly now: () => Date;
}

export interface PasswordChanges {
  /** The checks `set` makes, without setting anything (a form asks before it uses up a one-time link). */
  check(id: string, password: string): Promise<void>;
  /**
   * Sets a new password: the policy in force first (PasswordPolicyError naming every rule broken,
   * history included). `firstOnly`: only while the user has none (PasswordAlreadySetError
   * otherwise), decided under the user's lock, so of two first passwords sent at once one is set.
   */
  set(id: string, password: string, options?: { readonly firstOnly?: boolean }): Promise<void>;
}

/**
 * Choosing a password (a reset, the account page, an operator, the CLI): the policy, the history
 * check and the one locked step that writes the hash and remembers the one it replaces.
 */
export function createPasswordChanges({ store, hasher, history, policy: policyNow, locked, onChange, now }: PasswordChangesDeps): PasswordChanges {
  const historyRefusal = (policy: PasswordPolicy) => new PasswordPolicyError([unmetRule('history', policy.history)]);

  /** The policy in force, for this user: compared with their own name, address and earlier passwords only. */
  async function checkNew(id: string, password: string): Promise<{ policy: PasswordPolicy; checkedHash: string | null }> {
    const policy = await policyNow();
    const owner = await store.owner(id);
    if (owner === null) throw new UserNotFoundError(id);
    checkPassword(password, policy, owner);
    if (await history.reused(id, password, owner.passwordHash, policy.history)) throw historyRefusal(policy);
    return { policy, checkedHash: owner.passwordHash };
  }

  return {
    async check(id, password) {
      await checkNew(id, password);
    },

    async set(id, password, { firstOnly = false } = {}) {
      const { policy, checkedHash } = await checkNew(id, password);
      const passwordHash = await hasher.hash(password);
      // The change and the history append are one step under the user's lock (which also guards
      // `password_history`): the hash replaced is the one read under the lock, not the one
      // checkNew saw, so of two changes at once the second remembers the first's password.
      await locked(id, async () => {
        const replaced = await store.currentHash(id);
        if (replaced === undefined) throw new UserNotFoundError(id);
        if (firstOnly && replaced !== null) throw new PasswordAlreadySetError(id);
        // Changed since the check (another change won the lock first): the history check again,
        // against what is stored now — rare, so the verifications under the lock cost little.
        if (replaced !== checkedHash && (await history.reused(id, password, replaced, policy.history))) throw historyRefusal(policy);
        // A user deleted meanwhile gets no history row: it would outlive them.
        if (!(await store.writeHash(id, passwordHash, now()))) throw new UserNotFoundError(id);
        await history.remember(id, replaced, policy.history);
      });
      await onChange(id);
    },
  };
}
