import type { mongo } from 'mongoose';

/**
 * Rows that an instance writes for users in batches, a second after their sign-in (last sign-in
 * times, session devices), may land after one of those users was deleted — by another instance or
 * the CLI, which cannot see the batch. Two halves close that gap, whatever the order: the writer
 * calls this right after each batch, removing its rows of users that no longer exist (one read of
 * `users` by `_id`, one delete only when someone is gone); and the deletion erases the user's
 * records once more after removing the user (src/operations/user-deletion.ts). A batch landing
 * before that removal is caught by the second erasure; one landing after it finds the user gone.
 */
/**
 * Whether the user is gone (never existed or deleted): one read of `users` by `_id`. A writer of a
 * record that a user's deletion erases calls it right after its write and erases what it wrote
 * when the answer is yes — the same two halves as removeRowsOfDeletedUsers, for writers that
 * erase through their own service (second factors and passkeys, under their locks).
 */
export async function userGone(db: mongo.Db, userId: string): Promise<boolean> {
  return (await db.collection<{ _id: string }>('users').findOne({ _id: userId }, { projection: { _id: 1 } })) === null;
}

export async function removeRowsOfDeletedUsers(db: mongo.Db, collection: string, field: string, userIds: Iterable<string>): Promise<number> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return 0;
  const existing = await db.collection<{ _id: string }>('users').find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
  const present = new Set(existing.map((user) => user._id));
  const gone = ids.filter((id) => !present.has(id));
  if (gone.length === 0) return 0;
  return (await db.collection(collection).deleteMany({ [field]: { $in: gone } })).deletedCount;
}
