import type { mongo } from 'mongoose';
import { isDuplicateKey } from './duplicate-key.ts';

/**
 * The version of the indexes Gatehouse's collections need. Bump it whenever an index is added or
 * changed (a new unique index above all): a write command of the new version then finds the
 * database's mark older and creates the indexes once more before it writes (src/composition/core.ts).
 * test/integration/cli-indexes.test.ts holds the indexes of each version and fails on a change
 * made without raising it.
 */
export const INDEX_VERSION = 1;

/** One document, `{ _id: 'indexes', version }`: the highest INDEX_VERSION whose indexes were all created. */
export const SCHEMA_COLLECTION = 'gatehouse_schema';
const MARK_ID = 'indexes';

interface Mark {
  _id: string;
  version?: number;
}

const marks = (db: mongo.Db) => db.collection<Mark>(SCHEMA_COLLECTION);

/**
 * Whether the indexes of this version were created on this database (by a server's start or an
 * earlier write command): one read by `_id`, instead of a `createIndexes` per collection.
 */
export async function indexesMarked(db: mongo.Db): Promise<boolean> {
  const mark = await marks(db).findOne({ _id: MARK_ID });
  return typeof mark?.version === 'number' && mark.version >= INDEX_VERSION;
}

/**
 * Records that the indexes of this version exist; call only after they were all created. Never
 * lowers the mark (an older version's start beside a newer one's), and two first marks at once
 * settle on the one document.
 */
export async function markIndexes(db: mongo.Db): Promise<void> {
  const mark = () => marks(db).updateOne({ _id: MARK_ID }, { $max: { version: INDEX_VERSION } }, { upsert: true });
  try {
    await mark();
  } catch (error) {
    // Two upserts of a missing document at once: the loser's insert meets the winner's `_id`; its update now applies to that document.
    if (!isDuplicateKey(error)) throw error;
    await mark();
  }
}
