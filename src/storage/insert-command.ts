import type { mongo } from 'mongoose';

/** Writes a batch of new documents; throws when the batch should be tried again. */
export type InsertBatch<T> = (docs: readonly T[]) => Promise<void>;

/**
 * A batch insert as one raw `insert` command, for writers that batch off the request path
 * (audit events). The driver's `insertMany` runs every document through its bulk-write
 * bookkeeping (ids, per-document results), which cost about as much of the event loop as
 * serializing the document itself: ≈ 21 against ≈ 12 µs a document measured here
 * (docs/PERFORMANCE.md, fifth round). Same outcome for a batch writer as
 * `insertMany(docs, { ordered: false })`: every document is tried; a duplicate key (a retried
 * batch that had partly gone through) is not an error; any other write error, or a write
 * concern that was not met, throws so that the caller retries the batch. The database's write
 * concern (from the connection string) is sent along, as insertMany would.
 */
export function insertCommand<T>(db: mongo.Db, collection: string): InsertBatch<T> {
  const concern = db.writeConcern;
  const writeConcern =
    concern === undefined
      ? undefined
      : Object.fromEntries(Object.entries({ w: concern.w, j: concern.journal, wtimeout: concern.wtimeoutMS }).filter(([, value]) => value !== undefined));
  return async (docs) => {
    if (docs.length === 0) return;
    const reply = await db.command({ insert: collection, documents: [...docs], ordered: false, ...(writeConcern === undefined || Object.keys(writeConcern).length === 0 ? {} : { writeConcern }) });
    const writeErrors = (reply.writeErrors ?? []) as Array<{ code?: number; errmsg?: string }>;
    const failed = writeErrors.find((error) => error.code !== 11000);
    if (failed !== undefined) throw Object.assign(new Error(`insert into ${collection} failed: ${failed.errmsg ?? 'write error'}`), { code: failed.code });
    const concernError = reply.writeConcernError as { code?: number; errmsg?: string } | undefined;
    if (concernError !== undefined) throw Object.assign(new Error(`insert into ${collection}: write concern not met: ${concernError.errmsg ?? ''}`), { code: concernError.code });
  };
}
