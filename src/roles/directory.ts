import { ALL_USERS, ignoreUserChanges, type UserChangeHook } from '../accounts/user-changes.ts';
import { insertValidated } from '../storage/validated-writes.ts';
import { documentLocks, lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { ConflictError } from '../errors/gatehouse-error.ts';
import type { UserModel } from '../accounts/user-model.ts';
import type { LabelKind, LabelModel, StoredLabel } from './model.ts';

export interface Label {
  readonly name: string;
  readonly description: string;
  readonly createdAt: Date;
}

export class LabelConflictError extends ConflictError {
  constructor(kind: LabelKind, name: string) {
    super(kind === 'role' ? 'role_exists' : 'group_exists', { name }, 'name');
  }
}

/** Roles or groups: a small named collection, mirrored on users as `roles` / `groups`. */
export interface LabelDirectory {
  readonly kind: LabelKind;
  create(name: string, description?: string): Promise<Label>;
  /** Creates the missing ones quietly (assigning an unknown role creates it). */
  ensure(names: readonly string[]): Promise<void>;
  list(): Promise<Label[]>;
  get(name: string): Promise<Label | undefined>;
  /** Removes the label and takes it off every user. */
  remove(name: string): Promise<boolean>;
  /**
   * Adds to / removes from one user: 'changed', 'unchanged' when the user already had it / did
   * not have it (nothing written), 'no_user' when the user does not exist.
   */
  assign(userId: string, name: string): Promise<MembershipChange>;
  unassign(userId: string, name: string): Promise<MembershipChange>;
}

export type MembershipChange = 'changed' | 'unchanged' | 'no_user';

const toLabel = (doc: StoredLabel): Label => ({ name: doc._id, description: doc.description, createdAt: doc.createdAt });

export function createLabelDirectory({
  kind,
  model,
  users,
  now = () => new Date(),
  onUserChange = ignoreUserChanges,
  locks = documentLocks(users.db),
}: {
  kind: LabelKind;
  model: LabelModel;
  users: UserModel;
  now?: () => Date;
  onUserChange?: UserChangeHook;
  /** Held around every write of a user document (src/accounts/accounts.ts takes the same locks). */
  locks?: DocumentLocks;
}): LabelDirectory {
  const field = kind === 'role' ? 'roles' : 'groups';
  const change = (userId: string, update: Record<string, unknown>) =>
    locks.hold(lockKey('users', userId), () => users.updateOne({ _id: userId }, { ...update, $set: { updatedAt: now() } }).exec());
  /**
   * One membership change, written only when it changes something: the filter matches the user
   * only while the change is still to be made (under the user's lock, so FerretDB's read-then-write
   * update sees no other change in between); otherwise whether the user exists tells the rest.
   */
  const changeMembership = async (userId: string, pending: Record<string, unknown>, update: Record<string, unknown>): Promise<MembershipChange> =>
    locks.hold(lockKey('users', userId), async () => {
      const result = await users.updateOne({ _id: userId, ...pending }, { ...update, $set: { updatedAt: now() } }).exec();
      if (result.matchedCount === 1) return 'changed';
      return (await users.exists({ _id: userId }).exec()) === null ? 'no_user' : 'unchanged';
    });
  const directory: LabelDirectory = {
    kind,
    async create(name, description = '') {
      const doc: StoredLabel = { _id: name, description, createdAt: now() };
      try {
        await insertValidated(model, doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw new LabelConflictError(kind, name);
        throw error;
      }
      return toLabel(doc);
    },
    async ensure(names) {
      for (const name of new Set(names)) {
        await insertValidated(model, { _id: name, description: '', createdAt: now() }).catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
        });
      }
    },
    async list() {
      return (await model.find().sort({ _id: 1 }).lean<StoredLabel[]>().exec()).map(toLabel);
    },
    async get(name) {
      const doc = await model.findById(name).lean<StoredLabel>().exec();
      return doc === null ? undefined : toLabel(doc);
    },
    async remove(name) {
      const result = await model.deleteOne({ _id: name }).exec();
      if (result.deletedCount === 0) return false;
      // One user at a time under its lock, not one updateMany: FerretDB v1 rewrites each whole
      // document, so an unlocked bulk update could undo a concurrent edit of any of them.
      const holders = await users.find({ [field]: name }, { _id: 1 }).lean<Array<{ _id: string }>>().exec();
      for (const { _id } of holders) await change(_id, { $pull: { [field]: name } });
      await onUserChange(ALL_USERS);
      return true;
    },
    async assign(userId, name) {
      await directory.ensure([name]);
      const result = await changeMembership(userId, { [field]: { $ne: name } }, { $addToSet: { [field]: name } });
      if (result === 'changed') await onUserChange(userId);
      return result;
    },
    async unassign(userId, name) {
      const result = await changeMembership(userId, { [field]: name }, { $pull: { [field]: name } });
      if (result === 'changed') await onUserChange(userId);
      return result;
    },
  };
  return directory;
}
