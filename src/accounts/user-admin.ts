import { DuplicateUserError, InvalidUserError, UserNotFoundError } from './errors.ts';
import { upsertValidated, validated } from '../storage/validated-writes.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { storedEmailKeys, storedUnder } from './email-key-migration.ts';
import { emailKey, validEmail } from './normalize.ts';
import { noEmailKey, type StoredUser, type UserModel } from './user-model.ts';
import { attributeChanges } from './profile-attributes.ts';
import { applyAttributeChanges, attributesProblem, type CustomAttributesPatch } from './custom-attributes.ts';
import type { NewUser, User } from './accounts.ts';
import { importedFromOf } from './user.ts';
import { ignoreUserChanges, type UserChangeHook } from './user-changes.ts';
import { withLastSignIns, type SignIns } from './sign-ins.ts';
import { EXPORT_BATCH, readBatches } from '../storage/read-batches.ts';
import { forgetPasswordResets } from './password-resets.ts';
import { orderedActions } from './required-actions.ts';

export interface UserPage {
  readonly users: User[];
  readonly total: number;
}

export interface UserSearch {
  /** Case-insensitive prefix of the username or email. */
  readonly query?: string | undefined;
  readonly role?: string | undefined;
  readonly group?: string | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** The profile fields of a new user, each optional: what an operator may change. */
export type ProfilePatch = Omit<NewUser, 'username' | 'password' | 'customAttributes'> & {
  /** Custom attributes to set (a value) or remove (null); the others stay. */
  readonly customAttributes?: CustomAttributesPatch | undefined;
};

/** Operator-side user management that sign-in never needs: search, profile edits, transfer. */
export interface UserAdmin {
  search(search: UserSearch): Promise<UserPage>;
  update(id: string, patch: ProfilePatch): Promise<User>;
  /**
   * Takes `email` from the user while they have not confirmed it (decided under their lock): the
   * address goes, and any reset link mailed to it. Whether it was taken (false: not theirs, or confirmed).
   */
  releaseUnconfirmedEmail(id: string, email: string): Promise<boolean>;
  /** The user with `lastLoginAt` from `user_sign_ins` (the later of it and a legacy in-document value). */
  withLastSignIn(user: User): Promise<User>;
  /** Every stored user with its password hash and last sign-in, by id, read a batch at a time (`gatehouse export`). */
  exportEach(): AsyncIterable<StoredUser>;
  /** The same, all at once: for small tools and tests only (an import looks its users up one by one, storedById). */
  exportAll(): Promise<StoredUser[]>;
  /**
   * One stored user as an import compares it (the document as it is, with its hash), or undefined:
   * an equality on `_id`, which every MongoDB-wire server serves from its index (FerretDB v1 does
   * not push `$in` down: it would scan the collection).
   */
  storedById(id: string): Promise<StoredUser | undefined>;
  /** The id of the user whose username key is `key`, or undefined: an equality on the usernameKey index. */
  holderOfUsername(key: string): Promise<string | undefined>;
  /** The id of the user whose email key is `key`, or undefined: an equality on the emailKey index (a dry run's conflicts with stored users). */
  holderOfEmail(key: string): Promise<string | undefined>;
  /** Writes an exported user as is (same id, same hash); replaces one with the same id. */
  importOne(user: StoredUser): Promise<'created' | 'updated'>;
  /**
   * importOne over a stored user read before (`read`), written only while that user is still as read
   * — its updatedAt, disabled flag, who disabled it and password hash —, else nothing is written:
   * 'changed' (deleted since: 'changed' too). A Keycloak re-import decides from what it read (who
   * disabled the user, which password is newer): an operator's disable between its read and its
   * write would otherwise be overwritten (src/keycloak/apply-users.ts reads again and decides again).
   */
  importOneIfUnchanged(user: StoredUser, read: Pick<StoredUser, 'updatedAt' | 'disabled' | 'disabledBy' | 'passwordHash'>): Promise<'updated' | 'changed'>;
}

export function toUser(doc: StoredUser): User {
  const { passwordHash: _hash, usernameKey: _u, emailKey: _e, _id, attributes, customAttributes, secondFactor, selfRegistered, requiredActions, importedFrom: _from, disabledBy: _by, ...rest } = doc;
  // importedFrom as user.ts copies it (a plain object, not the stored subdocument).
  return {
    id: _id,
    attributes: attributes ?? {},
    customAttributes: customAttributes ?? {},
    secondFactor: secondFactor === true,
    selfRegistered: selfRegistered === true,
    requiredActions: orderedActions(requiredActions),
    hasPassword: typeof _hash === 'string',
    ...rest,
    ...importedFromOf(doc),
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}


/** The filters of an import's look-ups (test/integration/keycloak-import-memory.test.ts checks with explain() that an index serves them). */
export const importLookups = {
  byId: (id: string) => ({ _id: id }),
  byUsernameKey: (key: string) => ({ usernameKey: key }),
  /** Also under a key an older version stored for the same address (an internationalized domain: email-key-migration.ts). */
  byEmailKey: (key: string) => ({ emailKey: storedEmailKeys(key) }),
};

export interface UserAdminDeps {
  readonly users: UserModel;
  /** Last sign-in times (sign-ins.ts); the listing, edits and exports read them from there. */
  readonly signIns: SignIns;
  readonly now?: () => Date;
  readonly onChange?: UserChangeHook;
  /** Held around every write of a user document (accounts.ts takes the same locks). */
  readonly locks?: DocumentLocks;
}

export function createUserAdmin({ users, signIns, now = () => new Date(), onChange = ignoreUserChanges, locks = documentLocks(users.db) }: UserAdminDeps): UserAdmin {
  const locked = <T>(id: string, work: () => Promise<T>) => locks.hold(lockKey('users', id), work);
  return {
    async search({ query, role, group, limit, offset }) {
      const filter: Record<string, unknown> = {};
      if (query !== undefined && query.trim() !== '') {
        const prefix = new RegExp(`^${escapeRegex(query.trim().normalize('NFKC').toLowerCase())}`);
        filter.$or = [{ usernameKey: prefix }, { emailKey: prefix }];
      }
      if (role !== undefined) filter.roles = role;
      if (group !== undefined) filter.groups = group;
      const [docs, total] = await Promise.all([
        users.find(filter).sort({ usernameKey: 1 }).skip(offset).limit(limit).lean<StoredUser[]>().exec(),
        users.countDocuments(filter).exec(),
      ]);
      return { users: await withLastSignIns(signIns, docs.map(toUser), (user) => user.id), total };
    },

    async releaseUnconfirmedEmail(id, email) {
      const result = await locked(id, () =>
        users.updateOne({ _id: id, emailKey: storedEmailKeys(email), emailVerified: false }, { $set: { email: null, emailKey: noEmailKey(id), emailVerified: false, updatedAt: now() } }).exec(),
      );
      if (result.modifiedCount === 0) return false;
      await forgetPasswordResets(users.db, id);
      await onChange(id);
      return true;
    },

    async update(id, patch) {
      const set: Partial<StoredUser> = { updatedAt: now() };
      const email = patch.email === undefined ? undefined : patch.email === null || patch.email.trim() === '' ? null : validEmail(patch.email);
      if (email !== undefined) {
        set.email = email;
        set.emailKey = email === null ? noEmailKey(id) : emailKey(email);
      }
      if (patch.emailVerified !== undefined) set.emailVerified = patch.emailVerified;
      if (patch.givenName !== undefined) set.givenName = patch.givenName;
      if (patch.familyName !== undefined) set.familyName = patch.familyName;
      if (patch.name !== undefined) set.name = patch.name;
      // Attribute by attribute, so concurrent edits of different attributes both land.
      const unset: Record<string, ''> = {};
      for (const [name, value] of attributeChanges(patch.attributes ?? {})) {
        if (value === null) unset[`attributes.${name}`] = '';
        else (set as Record<string, unknown>)[`attributes.${name}`] = value;
      }
      if (patch.roles !== undefined) set.roles = [...new Set(patch.roles)];
      if (patch.groups !== undefined) set.groups = [...new Set(patch.groups)];
      // An empty list is kept as none: the field goes, as on users that never had one.
      if (patch.requiredActions !== undefined && patch.requiredActions.length > 0) set.requiredActions = orderedActions(patch.requiredActions);
      else if (patch.requiredActions !== undefined) unset.requiredActions = '';
      let doc: StoredUser | null;
      let addressChanged = false;
      const attributePatch = patch.customAttributes ?? {};
      try {
        doc = await locked(id, async () => {
          // The limits hold for the attributes as they will be: read them under the lock, write them whole.
          if (Object.keys(attributePatch).length > 0) {
            const current = await users.findById(id, { customAttributes: 1 }).lean<Pick<StoredUser, 'customAttributes'>>().exec();
            const next = applyAttributeChanges(current?.customAttributes ?? {}, attributePatch);
            const problem = attributesProblem(next);
            if (problem !== undefined) throw new InvalidUserError('attributes', problem.code, problem.params);
            if (Object.keys(next).length > 0) set.customAttributes = next;
            else unset.customAttributes = '';
          }
          // The address it already has (by emailKey, under the lock) is no change: email_verified
          // stays (a token holder must not force a confirmation again); only its spelling is kept.
          if (email !== undefined) {
            const current = await users.findById(id, { emailKey: 1 }).lean<Pick<StoredUser, 'emailKey'>>().exec();
            // (A key an older version stored for the same address is the same address.)
            addressChanged = current !== null && (email === null ? current.emailKey !== set.emailKey : !storedUnder(current.emailKey, email));
            if (addressChanged && patch.emailVerified === undefined) set.emailVerified = false;
          }
          return users.findOneAndUpdate({ _id: id }, { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { returnDocument: 'after' }).lean<StoredUser>().exec();
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateUserError('email');
        throw error;
      }
      if (doc === null) throw new UserNotFoundError(id);
      // A reset link mailed to the old address must not work again, even if the address comes back.
      if (addressChanged) await forgetPasswordResets(users.db, id);
      await onChange(id);
      return (await withLastSignIns(signIns, [toUser(doc)], (user) => user.id))[0]!;
    },

    async withLastSignIn(user) {
      return (await withLastSignIns(signIns, [user], (one) => one.id))[0]!;
    },

    async *exportEach() {
      for await (const docs of readBatches(users.find().sort({ _id: 1 }).lean<StoredUser>().cursor({ batchSize: EXPORT_BATCH }))) {
        yield* await withLastSignIns(signIns, docs, (user) => user._id);
      }
    },

    async exportAll() {
      const all: StoredUser[] = [];
      for await (const user of this.exportEach()) all.push(user);
      return all;
    },

    async storedById(id) {
      return (await users.findOne(importLookups.byId(id)).lean<StoredUser>().exec()) ?? undefined;
    },

    async holderOfUsername(key) {
      return (await users.findOne(importLookups.byUsernameKey(key), { _id: 1 }).lean<Pick<StoredUser, '_id'>>().exec())?._id;
    },

    async holderOfEmail(key) {
      return (await users.findOne(importLookups.byEmailKey(key), { _id: 1 }).lean<Pick<StoredUser, '_id'>>().exec())?._id;
    },

    async importOne(user) {
      let created: boolean;
      try {
        created = await locked(user._id, async () => {
          const existing = await users.findById(user._id, { _id: 1 }).lean().exec();
          await upsertValidated(users, user);
          return existing === null;
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateUserError('username');
        throw error;
      }
      await onChange(user._id);
      return created ? 'created' : 'updated';
    },

    async importOneIfUnchanged(user, read) {
      const asRead = {
        _id: user._id,
        updatedAt: read.updatedAt ?? null,
        disabled: read.disabled === true ? true : { $ne: true },
        disabledBy: read.disabledBy ?? { $exists: false },
        passwordHash: read.passwordHash ?? null,
      };
      let written: boolean;
      try {
        written = await locked(user._id, async () => (await users.replaceOne(asRead, await validated(users, user)).exec()).matchedCount === 1);
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateUserError('username');
        throw error;
      }
      if (!written) return 'changed';
      await onChange(user._id);
      return 'updated';
    },
  };
}
