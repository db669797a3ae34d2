import type { mongo } from 'mongoose';

/**
 * Reads the document `_id` names and deletes it; the document for exactly one of any number of
 * callers taking it at the same moment, null for the rest (and when there is none). A single-use
 * record's gate (a link, a ticket, a session) rests on it.
 *
 * Not `findOneAndDelete`: FerretDB answers it with the document it read even when a concurrent
 * call deleted it first, so several callers each get the record (test/integration/
 * password-resets.test.ts). A delete's own count is exact on every MongoDB-wire server (one
 * statement by primary key): the caller whose delete removed the document is the one.
 */
export async function takeOnce<T extends mongo.Document & { _id: string }>(collection: mongo.Collection<T>, id: string): Promise<mongo.WithId<T> | null> {
  const filter = { _id: id } as mongo.Filter<T>;
  const record = await collection.findOne(filter);
  if (record === null) return null;
  const { deletedCount } = await collection.deleteOne(filter);
  return deletedCount === 1 ? record : null;
}
