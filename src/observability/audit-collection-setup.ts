import { Types, type mongo } from 'mongoose';
import type { StoredAuditEvent } from './audit-model.ts';
import type { AuditCollection } from './audit-trail.ts';
import type { Logger } from './logger.ts';

/**
 * The audit collection as startup leaves it (src/composition/core.ts): its query indexes, or none
 * on FerretDB v1, and events of an older shape moved to the current one. The trail itself, what
 * it writes and how it is queried, is audit-trail.ts.
 */

const AUDIT_INDEXES: mongo.IndexDescription[] = [
  { key: { type: 1, _id: -1 }, name: 'type_id' },
  { key: { 'actor.id': 1, _id: -1 }, name: 'actor_id' },
  { key: { 'actor.username': 1, _id: -1 }, name: 'actor_username_id' },
  { key: { 'target.id': 1, _id: -1 }, name: 'target_id' },
  { key: { client: 1, _id: -1 }, name: 'client_id' },
];

/**
 * Every index Gatehouse has created on the audit collection besides `_id`: the query indexes and
 * the plain retention index on `at` (audit-retention.ts; its TTL form never exists on FerretDB v1).
 */
const GATEHOUSE_AUDIT_INDEXES: readonly mongo.IndexDescription[] = [...AUDIT_INDEXES, { key: { at: 1 }, name: 'at_1' }];

const sameKey = (a: mongo.Document, b: mongo.Document) => JSON.stringify(a) === JSON.stringify(b);

export interface AuditIndexOptions {
  /**
   * FerretDB v1 (src/storage/server-kind.ts) can use no index for any audit query: it pushes
   * neither `$and`/`$or`/`$in` nor ranges down to its backend, and never a sort by `_id`
   * (test/integration/audit-indexes.test.ts pins each query shape's explain). There every index
   * besides `_id` only adds to the cost of each event written (docs/PERFORMANCE.md, eighteenth
   * round), so none is created and the ones an earlier Gatehouse created are dropped.
   */
  readonly ferretDbV1?: boolean;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The audit collection's indexes at startup. MongoDB: the query indexes, newest first (`at` for
 * retention and time ranges is audit-retention.ts's); only missing ones are created: FerretDB v1
 * drops the connection when asked again for an existing compound index on `_id`. FerretDB v1:
 * Gatehouse's own indexes (by name and key; an operator's own index is left alone) are dropped.
 * Queries work either way, so a failure is a warning, not a stop.
 */
export async function ensureAuditIndexes(collection: AuditCollection, { ferretDbV1 = false, logger }: AuditIndexOptions = {}): Promise<void> {
  try {
    // A collection that does not exist yet has no indexes (MongoDB answers NamespaceNotFound).
    const listed = await collection.listIndexes().toArray().catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 26) return [];
      throw error;
    });
    if (ferretDbV1) {
      const stale = listed.filter((index) => GATEHOUSE_AUDIT_INDEXES.some((own) => own.name === index.name && sameKey(own.key, index.key as mongo.Document)));
      for (const index of stale) await collection.dropIndex(index.name as string);
      if (stale.length > 0) logger?.info({ dropped: stale.map((index) => index.name as string) }, 'audit indexes dropped: FerretDB v1 cannot use them (every audit query scans), and each cost every event written');
      return;
    }
    const existing = new Set(listed.map((index) => index.name as string));
    const missing = AUDIT_INDEXES.filter((index) => !existing.has(index.name!));
    if (missing.length > 0) await collection.createIndexes(missing);
  } catch (error) {
    logger?.warn({ err: error }, ferretDbV1 ? 'audit indexes not dropped; each event written still updates them' : 'audit indexes not created; audit queries will be slower');
  }
}

/**
 * Before one shape, operator actions were stored with UUID ids, which do not sort by time. They
 * get an ObjectId from their time, once, at startup (idempotent: a document is copied, then the
 * old one removed; a crash between the two leaves a duplicate, never a loss).
 */
export async function migrateLegacyAuditEvents(collection: AuditCollection): Promise<number> {
  const legacy = collection as unknown as mongo.Collection<Omit<StoredAuditEvent, '_id'> & { _id: string }>;
  let moved = 0;
  for (;;) {
    const docs = await legacy.find({ _id: { $type: 'string' } }).limit(500).toArray();
    if (docs.length === 0) return moved;
    for (const { _id: oldId, ...doc } of docs) {
      const at = doc.at instanceof Date ? doc.at : new Date();
      const id = new Types.ObjectId(Types.ObjectId.generate(Math.floor(at.getTime() / 1000)));
      await collection.insertOne({ ...doc, _id: id, actor: { ...doc.actor, username: doc.actor?.username ?? null }, client: doc.client ?? null, ip: doc.ip ?? null });
      await legacy.deleteOne({ _id: oldId });
      moved += 1;
    }
  }
}
