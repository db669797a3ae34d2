import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import { removeRowsOfDeletedUsers } from './deleted-user-rows.ts';

/**
 * Users' last sign-in times, in their own collection (`user_sign_ins`, one row per user, `_id` =
 * the user id) rather than in the user document. FerretDB v1 runs an update by reading the whole
 * document and writing it back, so a sign-in time written into `users` could put back the old
 * password hash, `disabled` flag or profile that a concurrent change had just written
 * (docs/STORAGE.md). Rows here are written only by sign-ins, so nothing else can be lost.
 *
 * Users stored before this collection existed may still carry `lastLoginAt` in their document;
 * readers take the later of the two (`laterOf`).
 */
export interface StoredSignIn {
  _id: string;
  lastLoginAt: Date;
}

const signInSchema = new Schema<StoredSignIn>(
  {
    _id: { type: String, required: true },
    lastLoginAt: { type: Date, required: true },
  },
  { collection: 'user_sign_ins', versionKey: false, strict: 'throw', timestamps: false },
);

export type SignInModel = Model<StoredSignIn>;

export function signInModel(connection: Connection): SignInModel {
  return (connection.models.UserSignIn as SignInModel | undefined) ?? connection.model<StoredSignIn>('UserSignIn', signInSchema);
}

export interface SignIns {
  /** Stores each user's sign-in time unless a later one is stored already; one command for all. */
  record(entries: readonly (readonly [userId: string, at: Date])[]): Promise<void>;
  /** The stored last sign-in of each given user that has one; one read. */
  latest(userIds: readonly string[]): Promise<Map<string, Date>>;
  /** Removes the user's row (the user was deleted). */
  forget(userId: string): Promise<void>;
  /** Removes the rows of those of the given users that were deleted meanwhile (a batch written late: deleted-user-rows.ts). */
  forgetDeleted(userIds: readonly string[]): Promise<void>;
}

export function createSignIns(model: SignInModel): SignIns {
  const rows = model.collection as unknown as mongo.Collection<StoredSignIn>;
  return {
    async record(entries) {
      if (entries.length === 0) return;
      const statements = entries.map(([userId, at]) => ({ updateOne: { filter: { _id: userId }, update: { $max: { lastLoginAt: at } }, upsert: true } }));
      // The driver's own bulkWrite: the statements are already of the schema's types (a string
      // `_id`, a Date), and mongoose's bulkWrite would cast each one again (≈ 3.7 KB of garbage
      // and its casting per statement, docs/PERFORMANCE.md, driver14).
      const write = () => rows.bulkWrite(statements, { ordered: false });
      try {
        await write();
      } catch (error) {
        // A user's first sign-ins at once: each upsert found no row and one insert won. The row
        // is there now, so the same $max updates apply (test: correct passwords sent together).
        if (!isDuplicateKey(error)) throw error;
        await write();
      }
    },
    async latest(userIds) {
      if (userIds.length === 0) return new Map();
      const rows = await model.find({ _id: { $in: [...new Set(userIds)] } }).lean<StoredSignIn[]>().exec();
      return new Map(rows.map((row) => [row._id, row.lastLoginAt]));
    },
    async forget(userId) {
      await model.deleteOne({ _id: userId }).exec();
    },
    async forgetDeleted(userIds) {
      const db = model.db.db;
      if (db === undefined) throw new Error('MongoDB connection is not open');
      await removeRowsOfDeletedUsers(db, 'user_sign_ins', '_id', userIds);
    },
  };
}

/** The later of a legacy in-document time and the stored one. */
export function laterOf(legacy: Date | null | undefined, stored: Date | undefined): Date | null {
  if (stored === undefined) return legacy ?? null;
  if (legacy === null || legacy === undefined) return stored;
  return legacy.getTime() >= stored.getTime() ? legacy : stored;
}

/** Users (or stored users) with `lastLoginAt` taken from the sign-in rows, legacy values still counting. */
export async function withLastSignIns<T extends { readonly lastLoginAt: Date | null }>(
  signIns: Pick<SignIns, 'latest'>,
  items: readonly T[],
  idOf: (item: T) => string,
): Promise<T[]> {
  const stored = await signIns.latest(items.map(idOf));
  return items.map((item) => {
    const lastLoginAt = laterOf(item.lastLoginAt, stored.get(idOf(item)));
    return lastLoginAt === item.lastLoginAt ? item : { ...item, lastLoginAt };
  });
}
