import { randomUUID } from 'node:crypto';
import { insertValidated } from '../storage/validated-writes.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { DuplicateUserError, InvalidUserError, UserNotFoundError } from './errors.ts';
import type { PasswordHasher } from './hash-pool.ts';
import type { LastLoginWriter } from './last-login.ts';
import type { LoginLimiter } from './login-limiter-types.ts';
import { storedEmailKeys } from './email-key-migration.ts';
import { emailKey, loginKey, usernameKey, validEmail, validUsername } from './normalize.ts';
import { createPasswordAuthentication, type Authenticate, type AuthenticationEvent } from './password-authentication.ts';
import { createPasswordChanges, passwordStore } from './password-changes.ts';
import { createPasswordHistory, passwordHistoryModel, type PasswordHistory } from './password-history.ts';
import { checkPassword, DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './password-policy.ts';
import { initialAttributes, type ProfileAttributesPatch } from './profile-attributes.ts';
import type { CustomAttributes } from './custom-attributes.ts';
import { ignoreUserChanges, type UserChangeHook } from './user-changes.ts';
import { createSignIns, signInModel, type SignIns } from './sign-ins.ts';
import { noEmailKey, type StoredUser, type UserModel } from './user-model.ts';
import { forgetPasswordResets } from './password-resets.ts';
import { orderedActions, type RequiredAction } from './required-actions.ts';
import { toUser, type User } from './user.ts';

export type { User } from './user.ts';

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
  /** Operator-defined attributes, already validated (src/accounts/custom-attributes.ts customAttributesInput). */
  readonly customAttributes?: CustomAttributes | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  /** Created through self-registration. */
  readonly selfRegistered?: boolean | undefined;
  /** Instead of `password`: a hash this server's hasher made earlier (a registration waiting for its email). */
  readonly passwordHash?: string | undefined;
  /** What the user must do at their next sign-in (required-actions.ts); on update, replaces the stored ones. */
  readonly requiredActions?: readonly RequiredAction[] | undefined;
}

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
  /** Roles every new user gets besides those asked for (the runtime setting default_roles, Keycloak's realm default roles); read at each creation. */
  readonly defaultRoles?: () => Promise<readonly string[]>;
}

export interface Accounts {
  createUser(input: NewUser): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  /** By username or email, case-insensitively. */
  findByLogin(login: string): Promise<User | undefined>;
  /** Password sign-in (password-authentication.ts). */
  authenticate: Authenticate;
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
  /** Adds required actions to the ones the user has (a temporary password adds `update_password`); resolves to them all. */
  addRequiredActions(id: string, actions: readonly RequiredAction[]): Promise<readonly RequiredAction[]>;
  /** Removes a done required action; resolves to whether the user had it (decided under their lock). */
  completeRequiredAction(id: string, action: RequiredAction): Promise<boolean>;
  /** Whether `password` is the user's current one (a required password change must choose another); no lockout counting. */
  isCurrentPassword(id: string, password: string): Promise<boolean>;
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
   * are otherwise only deleted by an operator (remove). Resolves to whether it was there.
   */
  discardUnused(id: string): Promise<boolean>;
  /**
   * Deletes the user document, the last step of an operator's deletion (src/operations/user-deletion.ts,
   * which erases everything else of theirs first): the username and email are free again. Resolves to
   * whether it was there.
   */
  remove(id: string): Promise<boolean>;
  /** Lifts the user's lockouts (account-wide and per IP); resolves to how many were lifted. */
  unlock(id: string): Promise<number>;
  /** Lockouts in force, newest first (at most `limit` when given). */
  listLockouts: LoginLimiter['listLockouts'];
  countLockouts: LoginLimiter['countLockouts'];
  /** Lifts listed lockouts by subject (a user id, or `login:<login>` for logins that match no user) or by IP. */
  liftLockout(target: { readonly subject: string } | { readonly ip: string }): Promise<number>;
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
  defaultRoles = async () => [],
}: AccountsDeps): Accounts {
  const policyNow = typeof passwordPolicy === 'function' ? passwordPolicy : () => Promise.resolve(passwordPolicy);
  const history = passwordHistory ?? createPasswordHistory({ model: passwordHistoryModel(users.db), hasher, now });

  /** Where sign-ins are written one by one when there is no batch writer. */
  let signIns: SignIns | undefined;
  /** The user's last sign-in, batched when a writer is given (last-login.ts). */
  async function signedIn(id: string, at: Date): Promise<void> {
    if (lastLogins !== undefined) lastLogins.record(id, at);
    else await (signIns ??= createSignIns(signInModel(users.db))).record([[id, at]]);
  }

  const findStored = (id: string) => users.findById(id).lean<StoredUser>().exec();
  // The driver's own findOne: a lean read of a string-keyed filter needs nothing of mongoose's query machinery.
  const findOne = (filter: { usernameKey: string } | { emailKey: string }) => users.collection.findOne<StoredUser>(filter);
  /**
   * The user an address names, under its current key or (an internationalized domain) a key an
   * older version stored (email-key-migration.ts storedEmailKeys); the current key wins.
   */
  const findByEmailKey = async (email: string) => {
    const keys = storedEmailKeys(email);
    if (typeof keys === 'string') return findOne({ emailKey: keys });
    const found = await users.collection.find<StoredUser>({ emailKey: keys }).limit(keys.$in.length).toArray();
    return found.find((user) => user.emailKey === keys.$in[0]) ?? found[0] ?? null;
  };
  /**
   * Usernames never contain `@` (normalize.ts), so a login without one is a username. A login
   * with one is looked up as an email and as a username (Keycloak-imported usernames may contain
   * `@`) at once, the email winning (the email by its emailKey: an internationalized domain in
   * either form): both reads are always made, so how long the lookup takes
   * says nothing about whether that email exists (no enumeration by timing). One key per query,
   * never `$or`: FerretDB does not push `$or` down and scanned every user at each sign-in
   * (docs/PERFORMANCE.md).
   */
  const findStoredByLogin = async (key: string) => {
    if (!key.includes('@')) return findOne({ usernameKey: key });
    const [byEmail, byUsername] = await Promise.all([findByEmailKey(key), findOne({ usernameKey: key })]);
    return byEmail ?? byUsername;
  };

  /** FerretDB v1 rewrites the whole document on update: every writer of a user holds its lock. */
  const locked = <T>(id: string, work: () => Promise<T>) => locks.hold(lockKey('users', id), work);
  const passwordChanges = createPasswordChanges({ store: passwordStore(users), hasher, history, policy: policyNow, locked, onChange, now });
  const authenticate = createPasswordAuthentication({ users, hasher, limiter, now, onAuthentication, findStoredByLogin, locked, signedIn });

  async function update(id: string, set: Partial<StoredUser>): Promise<void> {
    const result = await locked(id, () => users.updateOne({ _id: id }, { $set: { ...set, updatedAt: now() } }).exec());
    if (result.matchedCount === 0) throw new UserNotFoundError(id);
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
        ...(input.customAttributes === undefined || Object.keys(input.customAttributes).length === 0 ? {} : { customAttributes: input.customAttributes }),
        roles: labels('roles', [...(await defaultRoles()), ...(input.roles ?? [])]),
        groups: labels('groups', input.groups),
        disabled: false,
        ...(input.selfRegistered === true ? { selfRegistered: true } : {}),
        ...(input.requiredActions === undefined || input.requiredActions.length === 0 ? {} : { requiredActions: orderedActions(input.requiredActions) }),
      };
      doc.emailKey = email === null ? noEmailKey(doc._id) : emailKey(email);
      // Fail fast before spending a hash; the unique indexes still settle races.
      const taken = await users.findOne({ $or: [{ usernameKey: doc.usernameKey }, { emailKey: email === null ? doc.emailKey : storedEmailKeys(email) }] }, { usernameKey: 1 }).lean().exec();
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

    authenticate,

    setPassword: (id, password) => passwordChanges.set(id, password),
    addPassword: (id, password) => passwordChanges.set(id, password, { firstOnly: true }),
    checkNewPassword: (id, password) => passwordChanges.check(id, password),

    async verifyEmail(id, email) {
      // A disabled user's link confirms nothing (their other links stop working too).
      // A pending required action verify_email is done with it (required-actions.ts).
      const result = await locked(id, async () => {
        const confirmed = await users.updateOne({ _id: id, emailKey: storedEmailKeys(email), disabled: false }, { $set: { emailVerified: true, updatedAt: now() } }).exec();
        if (confirmed.matchedCount > 0) await users.updateOne({ _id: id, requiredActions: 'verify_email' }, { $pull: { requiredActions: 'verify_email' } }).exec();
        return confirmed;
      });
      if (result.matchedCount === 0) return false;
      if (result.modifiedCount > 0) await onChange(id);
      return true;
    },

    async setSecondFactor(id, enrolled) {
      await update(id, { secondFactor: enrolled });
      await onChange(id);
    },

    async addRequiredActions(id, actions) {
      const all = await locked(id, async () => {
        const found = await users.findById(id, { requiredActions: 1 }).lean<Pick<StoredUser, 'requiredActions'>>().exec();
        if (found === null) throw new UserNotFoundError(id);
        const merged = orderedActions([...(found.requiredActions ?? []), ...actions]);
        await users.updateOne({ _id: id }, { $set: { requiredActions: merged, updatedAt: now() } }).exec();
        return merged;
      });
      await onChange(id);
      return all;
    },

    async completeRequiredAction(id, action) {
      const had = await locked(id, async () => {
        const found = await users.findById(id, { requiredActions: 1 }).lean<Pick<StoredUser, 'requiredActions'>>().exec();
        if (found === null || !(found.requiredActions ?? []).includes(action)) return false;
        const left = orderedActions(found.requiredActions).filter((one) => one !== action);
        await users.updateOne({ _id: id }, left.length === 0 ? { $unset: { requiredActions: '' }, $set: { updatedAt: now() } } : { $set: { requiredActions: left, updatedAt: now() } }).exec();
        return true;
      });
      if (had) await onChange(id);
      return had;
    },

    async isCurrentPassword(id, password) {
      const found = await users.findById(id, { passwordHash: 1 }).lean<Pick<StoredUser, 'passwordHash'>>().exec();
      return typeof found?.passwordHash === 'string' && (await hasher.verify(found.passwordHash, password));
    },

    async disable(id) {
      // The operator's: a Keycloak re-import does not enable the user again (src/keycloak/apply-import.ts).
      await update(id, { disabled: true, disabledBy: 'operator' });
      // For good: enabling the user again does not bring a reset link back.
      await forgetPasswordResets(users.db, id);
      await onChange(id);
    },
    async enable(id) {
      const result = await locked(id, () => users.updateOne({ _id: id }, { $set: { disabled: false, updatedAt: now() }, $unset: { disabledBy: '' } }).exec());
      if (result.matchedCount === 0) throw new UserNotFoundError(id);
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
    async remove(id) {
      // Under the lock: an update in flight (FerretDB reads, then writes back) would put the document back.
      const { deletedCount } = await locked(id, () => users.deleteOne({ _id: id }).exec());
      // Whether or not this call found it: every instance forgets its cached copy (a retry after a failed notice).
      await onChange(id);
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
