import type { mongo } from 'mongoose';
import type { DocumentLocks } from './document-locks.ts';
import type { SweepTarget } from './expiry.ts';

/** Expired rows locked and deleted together (one insert, one delete, one release). */
const SWEEP_BATCH = 500;

/**
 * A sweep of the rows of `collection` whose `field` has passed, each deleted under its document
 * lock (`lockOf`), where no writer can renew it meanwhile. Not a plain deleteMany: FerretDB v1
 * reads the expired rows, then deletes them by `_id`, so a row written again in between (a new
 * lock claimed on an ended record, a counter restarted) went with them. The free ones go
 * together (one insert locks them, one delete removes those still expired, one delete releases
 * — not three round trips per row), a busy one alone, waiting for its lock.
 */
export function lockedSweep<T extends mongo.Document>(locks: DocumentLocks, typed: mongo.Collection<T>, field: string, lockOf: (row: mongo.Document) => string): SweepTarget {
  // Any row type: the sweep reads and filters only `_id`, `key` and `field`.
  const collection = typed as unknown as mongo.Collection;
  return {
    collectionName: collection.collectionName,
    async sweep(at) {
      const expired = await collection.find({ [field]: { $lte: at } }, { projection: { _id: 1, key: 1 } }).toArray();
      let removed = 0;
      for (let start = 0; start < expired.length; start += SWEEP_BATCH) {
        const rows = expired.slice(start, start + SWEEP_BATCH);
        const rowOf = new Map(rows.map((row) => [lockOf(row), row._id]));
        const done = new Set<unknown>();
        removed += await locks.holdFree([...rowOf.keys()], async (held) => {
          if (held.length === 0) return 0;
          const ids = held.map((key) => rowOf.get(key) as mongo.Document['_id']);
          for (const id of ids) done.add(id);
          return (await collection.deleteMany({ _id: { $in: ids }, [field]: { $lte: at } } as mongo.Filter<mongo.Document>)).deletedCount;
        });
        for (const [key, id] of rowOf) {
          if (!done.has(id)) removed += await locks.hold(key, async () => (await collection.deleteOne({ _id: id, [field]: { $lte: at } })).deletedCount);
        }
      }
      return removed;
    },
  };
}
