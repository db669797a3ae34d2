import { randomUUID } from 'node:crypto';
import { insertValidated } from '../storage/validated-writes.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { DuplicateUserError, InvalidUserError, UserNotFoundError } from './errors.ts';
import type { PasswordHasher } from './hash-pool.ts';
import type { LastLoginWriter } from './last-login.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { emailKey, loginKey, usernameKey, validEmail, validUsername } from './normalize.ts';
import { createPasswordChanges, passwordStore } from './password-changes.ts';
import { createPasswordHistory, passwordHistoryModel, type PasswordHistory } from './password-history.ts';
import { checkPassword, DEFAULT_PASSWORD_POLICY, PASSWORD_INPUT_CAP, passwordLength, type PasswordPolicy } from './password-policy.ts';
import { initialAttributes, type ProfileAttributes, type ProfileAttributesPatch } from './profile-attributes.ts';
import { ignoreUserChanges, type UserChangeHook } from './user-changes.ts';
import { createSignIns, signInModel, type SignIns } from './sign-ins.ts';
import { noEmailKey, type StoredUser, type UserModel } from './user-model.ts';
import { forgetPasswordResets } from './password-resets.ts';

/** A user as the rest of Gatehouse sees it: never the password hash. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  readonly emailVerified: boolean;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly name: string | null;
  /** The other OpenID standard claims; an unset one is absent. */
  readonly attributes: ProfileAttributes;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly disabled: boolean;
  /** Has a second factor enrolled (the sign-in asks for it). */
  readonly secondFactor: boolean;
  /** Created the account themselves (self-registration). */
  readonly selfRegistered: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Has a password (users created by an upstream sign-in, or passkey-only users, have none). */
  readonly hasPassword: boolean;
  /** null while the user has no password. */
  readonly passwordChangedAt: Date | null;
  /**
   * The last sign-in. Sign-in times live in `user_sign_ins` (sign-ins.ts); `findById` and
   * `findByLogin` stay one read each (they are on the sign-in path) and give only a legacy value
   * from the user document, so operator views complete it with `UserAdmin.withLastSignIn`.
   */
  readonly lastLoginAt: Date | null;
}

export interface NewUser {
  readonly username: string;
  /** Left out for a user without a password: they cannot sign in with one until it is set. */
  readonly password?: string | undefined;
  readonly email?: string | null | undefined;
  readonly emailVerified?: boolean | undefined;
  readonly givenName?: string | null | undefined;
  readonly familyName?: string | null | undefined;
  readonly name?: string | null | undefined;
  /** Already validated (src/accounts/profile-attributes.ts profileAttributesInput). */
  readonly attributes?: ProfileAttributesPatch | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  /** Created through self-registration. */
  readonly selfRegistered?: boolean | undefined;
  /** Instead of `password`: a hash this server's hasher made earlier (a registration waiting for its email). */
  readonly passwordHash?: string | undefined;
}

/** The one failure every page sees, whatever the reason. */
export const AUTHENTICATION_FAILED: { readonly ok: false } = Object.freeze({ ok: false });

export type AuthenticationResult = { readonly ok: true; readonly user: User } | typeof AUTHENTICATION_FAILED;

export type FailureReason = 'unknown_user' | 'wrong_password' | 'no_password' | 'locked' | 'disabled';

/** For audit and logs only: never show `reason` to the person signing in. */
export type AuthenticationEvent = (
  | {
      readonly outcome: 'success';
      readonly userId: string;
      readonly username: string;
      /** The application the user signs in to, when known. */
      readonly clientId: string | null;
      readonly ip: string;
      readonly at: Date;
      readonly rehashed: boolean;
    }
  | {
      readonly outcome: 'failure';
      readonly reason: FailureReason;
      /** Set when the login named an existing user (the typed login itself is never reported). */
      readonly userId: string | null;
      readonly username: string | null;
      readonly clientId: string | null;
      readonly ip: string;
      readonly at: Date;
      /** Set when this failure (or an earlier one) left a lock in force. */
      readonly lockedForSeconds: number | null;
    }
) & {
  /** Set when the password came to the token endpoint (`password`) rather than the hosted sign-in page. */
  readonly grantType?: string | undefined;
};

export interface AccountsDeps {
  readonly users: UserModel;
  readonly hasher: PasswordHasher;
  readonly limiter: LoginLimiter;
  readonly now?: () => Date;
  /** What a new password must be: fixed, or read at each use (the runtime password policy, src/settings/). */
  readonly passwordPolicy?: PasswordPolicy | (() => Promise<PasswordPolicy>);
  /** Receives the reason behind every authentication result; must not throw. */
  readonly onAuthentication?: (event: AuthenticationEvent) => void;
  readonly onChange?: UserChangeHook;
  /**
   * Batches last sign-in writes (last-login.ts) into `user_sign_ins`; without it each sign-in
   * writes its own row there (never into the user document: docs/STORAGE.md).
   */
  readonly lastLogins?: Pick<LastLoginWriter, 'record'>;
  /** Earlier passwords' hashes (the policy's history rule); by default in `password_history` beside `users`. */
  readonly passwordHistory?: PasswordHistory;
  /** Held around every write of a user document (docs/STORAGE.md); by default in `users`' database. */
  readonly locks?: DocumentLocks;
}

export interface Accounts {
  createUser(input: NewUser): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  /** By username or email, case-insensitively. */
  findByLogin(login: string): Promise<User | undefined>;
  /**
   * Checks a login attempt. Unknown user, wrong password, locked and disabled all return the
   * same AUTHENTICATION_FAILED after the same work (one argon2 verification); the reason goes
   * to `onAuthentication`. Throws HashQueueFullError when the hashing pool is saturated.
   */
  authenticate(login: string, password: string, ip: string, clientId?: string, grantType?: string): Promise<AuthenticationResult>;
  /** Sets a new password: the policy in force first (PasswordPolicyError naming every rule broken, history included). */
  setPassword(id: string, password: string): Promise<void>;
  /**
   * The first password of a user who has none (an upstream or passkey-only user on the account
   * page); PasswordAlreadySetError when they have one — checked under the user's lock, where it
   * is set, so two at once cannot both be set.
   */
  addPassword(id: string, password: string): Promise<void>;
  /** The checks setPassword makes, without setting anything (a form asks before it uses up a one-time link). */
  checkNewPassword(id: string, password: string): Promise<void>;
  disable(id: string): Promise<void>;
  /**
   * Marks `email` verified if it is still the user's address (an address changed since the link
   * was sent stays unverified); resolves to whether it now is.
   */
  verifyEmail(id: string, email: string): Promise<boolean>;
  /** Records whether the user has a second factor (src/mfa/enrolment.ts keeps it in step). */
  setSecondFactor(id: string, enrolled: boolean): Promise<void>;
  enable(id: string): Promise<void>;
  /** For the protocol layer's findAccount: false for disabled or deleted users. */
  isActive(id: string): Promise<boolean>;
  /**
   * Notes a sign-in that checked no password here (a passkey, an upstream provider) as the user's
   * last sign-in, like authenticate does for a password.
   */
  recordSignIn(id: string): Promise<void>;
  /**
   * Deletes an account created moments ago that nothing refers to yet: a just-in-time account
   * whose upstream identity another sign-in linked first (src/upstream/linking.ts). Accounts
   * are otherwise never deleted (they are disabled). Resolves to whether it was there.
   */
  discardUnused(id: string): Promise<boolean>;
  /** Lifts the user's lockouts (account-wide and per IP); resolves to how many were lifted. */
  unlock(id: string): Promise<number>;
  /** Lockouts in force, newest first (at most `limit` when given). */
  listLockouts: LoginLimiter['listLockouts'];
  countLockouts: LoginLimiter['countLockouts'];
  /** Lifts listed lockouts by subject (a user id, or `login:<login>` for logins that match no user) or by IP. */
  liftLockout(target: { readonly subject: string } | { readonly ip: string }): Promise<number>;
}

function toUser(doc: StoredUser): User {
  return {
    id: doc._id,
    username: doc.username,
    email: doc.email,
    emailVerified: doc.emailVerified,
    givenName: doc.givenName,
    familyName: doc.familyName,
    name: doc.name,
    attributes: doc.attributes ?? {},
    roles: doc.roles,
    groups: doc.groups,
    disabled: doc.disabled,
    secondFactor: doc.secondFactor === true,
    selfRegistered: doc.selfRegistered === true,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    hasPassword: typeof doc.passwordHash === 'string',
    passwordChangedAt: doc.passwordChangedAt,
    lastLoginAt: doc.lastLoginAt,
  };
}

function optionalText(field: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length > 256) throw new InvalidUserError(field, 'too_long', { max: 256 });
  return trimmed === '' ? null : trimmed;
}

function labels(field: string, values: readonly string[] | undefined): string[] {
  const cleaned = (values ?? []).map((value) => value.trim());
  if (cleaned.some((value) => value === '' || value.length > 128)) {
    throw new InvalidUserError(field, 'entries_length');
  }
  return [...new Set(cleaned)];
}

/**
 * Which unique key a duplicate-key error hit. MongoDB names the index in the message
 * (`emailKey_unique`), but FerretDB on PostgreSQL names no index at all ("E11000 duplicate key
 * error collection: db.users") or a lower-cased one, so without a recognisable name the stored
 * users decide: a holder of the username means username, otherwise it was the email.
 */
async function duplicateField(error: unknown, usernameTaken: () => Promise<boolean>): Promise<'username' | 'email' | undefined> {
  if (!isDuplicateKey(error)) return undefined;
  const message = String((error as { message?: unknown }).message).toLowerCase();
  if (message.includes('emailkey_unique')) return 'email';
  if (message.includes('usernamekey_unique')) return 'username';
  return (await usernameTaken()) ? 'username' : 'email';
}

export function createAccounts({
  users,
  hasher,
  limiter,
  now = () => new Date(),
  passwordPolicy = DEFAULT_PASSWORD_POLICY,
  onAuthentication,
  onChange = ignoreUserChanges,
  lastLogins,
  passwordHistory,
  locks = documentLocks(users.db),
}: AccountsDeps): Accounts {
  const policyNow = typeof passwordPolicy === 'function' ? passwordPolicy : () => Promise.resolve(passwordPolicy);
  // The input cap is not a runtime setting: sign-in truncates at it without reading the policy
  // (a policy's lower maximum applies to new passwords only; imported longer ones still sign in).
  const maxLength = PASSWORD_INPUT_CAP;
  const history = passwordHistory ?? createPasswordHistory({ model: passwordHistoryModel(users.db), hasher, now });
  const report = (event: AuthenticationEvent) => {
    try {
      onAuthentication?.(event);
    } catch {
      // Auditing must not change the answer.
    }
  };

  /** Where sign-ins are written one by one when there is no batch writer. */
  let signIns: SignIns | undefined;
  /** The user's last sign-in, batched when a writer is given (last-login.ts). */
  async function signedIn(id: string, at: Date): Promise<void> {
    if (lastLogins !== undefined) lastLogins.record(id, at);
    else await (signIns ??= createSignIns(signInModel(users.db))).record([[id, at]]);
  }

  const findStored = (id: string) => users.findById(id).lean<StoredUser>().exec();
  // The driver's own findOne: a lean read of a string-keyed filter needs nothing of mongoose's query machinery.
  const findOne = (filter: Partial<Pick<StoredUser, 'usernameKey' | 'emailKey'>>) => users.collection.findOne<StoredUser>(filter);
  /**
   * Usernames never contain `@` (normalize.ts), so a login without one is a username. A login
   * with one is an email — or the username of an imported user (Keycloak allows `@`): email
   * first. One key per query, never `$or`: FerretDB does not push `$or` down and scanned every
   * user at each sign-in (docs/PERFORMANCE.md).
   */
  /**
   * A login with `@` is looked up as an email and as a username (Keycloak-imported usernames may
   * contain `@`) at once, the email winning: both reads are always made, so how long the lookup
   * takes says nothing about whether that email exists (no enumeration by timing).
   */
  const findStoredByLogin = async (key: string) => {
    if (!key.includes('@')) return findOne({ usernameKey: key });
    const [byEmail, byUsername] = await Promise.all([findOne({ emailKey: key }), findOne({ usernameKey: key })]);
    return byEmail ?? byUsername;
  };

  /** FerretDB v1 rewrites the whole document on update: every writer of a user holds its lock. */
  const locked = <T>(id: string, work: () => Promise<T>) => locks.hold(lockKey('users', id), work);
  const passwordChanges = createPasswordChanges({ store: passwordStore(users), hasher, history, policy: policyNow, locked, onChange, now });

  async function update(id: string, set: Partial<StoredUser>): Promise<void> {
    const result = await locked(id, () => users.updateOne({ _id: id }, { $set: { ...set, updatedAt: now() } }).exec());
    if (result.matchedCount === 0) throw new UserNotFoundError(id);
  }

  async function rehash(user: StoredUser, password: string): Promise<boolean> {
    try {
      const passwordHash = await hasher.hash(password);
      // Compare-and-set under the user's lock (a filter alone is no compare-and-set on FerretDB
      // v1): a password changed meanwhile wins over the upgrade.
      return await locked(user._id, async () => {
        const current = await users.findById(user._id, { passwordHash: 1 }).lean<Pick<StoredUser, 'passwordHash'>>().exec();
        if (current?.passwordHash !== user.passwordHash) return false;
        const result = await users.updateOne({ _id: user._id }, { $set: { passwordHash } }).exec();
        return result.modifiedCount === 1;
      });
    } catch {
      // Under load the upgrade waits for a later login; the sign-in itself succeeded.
      return false;
    }
  }

  return {
    async createUser(input) {
      const username = validUsername(input.username);
      const email = input.email === undefined || input.email === null || input.email.trim() === '' ? null : validEmail(input.email);
      if (input.password !== undefined) checkPassword(input.password, await policyNow(), { username, email });
      const doc = {
        _id: randomUUID(),
        username,
        usernameKey: usernameKey(username),
        email,
        emailKey: '',
        emailVerified: email !== null && input.emailVerified === true,
        givenName: optionalText('givenName', input.givenName),
        familyName: optionalText('familyName', input.familyName),
        name: optionalText('name', input.name),
        attributes: initialAttributes(input.attributes ?? {}),
        roles: labels('roles', input.roles),
        groups: labels('groups', input.groups),
        disabled: false,
        ...(input.selfRegistered === true ? { selfRegistered: true } : {}),
      };
      doc.emailKey = email === null ? noEmailKey(doc._id) : emailKey(email);
      // Fail fast before spending a hash; the unique indexes still settle races.
      const taken = await users.findOne({ $or: [{ usernameKey: doc.usernameKey }, { emailKey: doc.emailKey }] }, { usernameKey: 1 }).lean().exec();
      if (taken !== null) throw new DuplicateUserError(taken.usernameKey === doc.usernameKey ? 'username' : 'email');
      const passwordHash = input.passwordHash ?? (input.password === undefined ? null : await hasher.hash(input.password));
      const at = now();
      const stored: StoredUser = { ...doc, passwordHash, passwordChangedAt: passwordHash === null ? null : at, lastLoginAt: null, createdAt: at, updatedAt: at };
      try {
        await insertValidated(users, stored);
      } catch (error) {
        const field = await duplicateField(error, async () => (await users.exists({ usernameKey: doc.usernameKey }).exec()) !== null);
        if (field !== undefined) throw new DuplicateUserError(field);
        throw error;
      }
      return toUser(stored);
    },

    async findById(id) {
      const doc = await findStored(id);
      return doc === null ? undefined : toUser(doc);
    },

    async findByLogin(login) {
      const key = loginKey(login);
      if (key === '') return undefined;
      const doc = await findStoredByLogin(key);
      return doc === null ? undefined : toUser(doc);
    },

    async authenticate(login, password, ip, clientId, grantType) {
      const via = grantType === undefined ? {} : { grantType };
      const key = loginKey(login);
      const user = key === '' ? null : await findStoredByLogin(key);
      // Logins that match nobody are limited too: otherwise "never locks" would reveal them.
      const subject = user?._id ?? `login:${key}`;
      // Checked and counted in one step: guesses sent together cannot all pass before one is counted.
      const lock = await limiter.attempt(subject, ip);
      // Exactly one verification on every path, so timing says nothing about the reason.
      const tooLong = passwordLength(password) > maxLength;
      const candidate = tooLong ? password.slice(0, maxLength) : password;
      const hash = user?.passwordHash ?? null;
      let matches: boolean;
      try {
        matches = hash === null ? await hasher.verifyDummy(candidate) : (await hasher.verify(hash, candidate)) && !tooLong;
      } catch (error) {
        // Not checked (the hash queue is full: 503): the attempt does not count.
        await limiter.release(subject, ip, lock);
        throw error;
      }

      let reason: FailureReason | undefined;
      if (lock.locked) reason = 'locked';
      else if (user === null) reason = 'unknown_user';
      else if (hash === null) reason = 'no_password';
      else if (!matches) reason = 'wrong_password';
      else if (user.disabled) reason = 'disabled';

      if (reason !== undefined || user === null) {
        const after = lock.locked ? lock : await limiter.recordFailure(subject, ip, lock);
        report({
          outcome: 'failure',
          reason: reason ?? 'unknown_user',
          userId: user?._id ?? null,
          username: user?.username ?? null,
          clientId: clientId ?? null,
          ip,
          at: now(),
          lockedForSeconds: after.locked ? after.retryAfterSeconds : null,
          ...via,
        });
        return AUTHENTICATION_FAILED;
      }

      await limiter.recordSuccess(subject, ip, lock);
      const rehashed = hash !== null && hasher.needsRehash(hash) ? await rehash(user, password) : false;
      const at = now();
      await signedIn(user._id, at);
      report({ outcome: 'success', userId: user._id, username: user.username, clientId: clientId ?? null, ip, at, rehashed, ...via });
      return { ok: true, user: toUser({ ...user, lastLoginAt: at }) };
    },

    setPassword: (id, password) => passwordChanges.set(id, password),
    addPassword: (id, password) => passwordChanges.set(id, password, { firstOnly: true }),
    checkNewPassword: (id, password) => passwordChanges.check(id, password),

    async verifyEmail(id, email) {
      // A disabled user's link confirms nothing (their other links stop working too).
      const result = await locked(id, () => users.updateOne({ _id: id, emailKey: emailKey(email), disabled: false }, { $set: { emailVerified: true, updatedAt: now() } }).exec());
      if (result.matchedCount === 0) return false;
      if (result.modifiedCount > 0) await onChange(id);
      return true;
    },

    async setSecondFactor(id, enrolled) {
      await update(id, { secondFactor: enrolled });
      await onChange(id);
    },

    async disable(id) {
      await update(id, { disabled: true });
      // For good: enabling the user again does not bring a reset link back.
      await forgetPasswordResets(users.db, id);
      await onChange(id);
    },
    async enable(id) {
      await update(id, { disabled: false });
      await onChange(id);
    },

    async isActive(id) {
      const doc = await users.findById(id, { disabled: 1 }).lean().exec();
      return doc !== null && doc.disabled !== true;
    },

    async discardUnused(id) {
      const { deletedCount } = await locked(id, () => users.deleteOne({ _id: id }).exec());
      if (deletedCount > 0) await onChange(id);
      return deletedCount > 0;
    },

    async recordSignIn(id) {
      await signedIn(id, now());
    },

    async unlock(id) {
      if ((await findStored(id)) === null) throw new UserNotFoundError(id);
      return limiter.unlock(id);
    },

    listLockouts: (limit) => limiter.listLockouts(limit),
    countLockouts: () => limiter.countLockouts(),
    liftLockout: (target) => ('subject' in target ? limiter.unlock(target.subject) : limiter.unlockIp(target.ip)),
  };
}
