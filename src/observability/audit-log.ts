import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';

/** Who did it: an operator's user account, an admin client, the CLI, or Gatehouse itself. */
export interface AuditActor {
  readonly type: 'user' | 'client' | 'cli' | 'system';
  readonly id: string;
}

export interface AuditTarget {
  readonly type: string;
  readonly id: string;
}

export interface AuditEvent {
  readonly id: string;
  readonly at: Date;
  /** Dotted, past tense: `client.created`, `user.disabled`, `keys.rotated`, ... */
  readonly type: string;
  readonly actor: AuditActor;
  readonly target: AuditTarget | null;
  /** Never secrets or password material. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | null;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at' | 'target' | 'details' | 'requestId'> & {
  readonly target?: AuditTarget | undefined;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
  readonly requestId?: string | undefined;
};

export interface AuditQuery {
  readonly type?: string | undefined;
  /** Matches the actor or the target. */
  readonly userId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  readonly limit: number;
  /** Events strictly older than this one (pagination by the last id seen). */
  readonly before?: Date | undefined;
}

export interface AuditLog {
  record(event: NewAuditEvent): Promise<AuditEvent>;
  query(query: AuditQuery): Promise<AuditEvent[]>;
}

interface StoredAuditEvent {
  _id: string;
  at: Date;
  type: string;
  actor: { type: string; id: string };
  target: { type: string; id: string } | null;
  details: Record<string, unknown>;
  requestId: string | null;
}

const auditSchema = new Schema<StoredAuditEvent>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    type: { type: String, required: true },
    actor: { type: { type: String, required: true }, id: { type: String, required: true } },
    target: { type: Schema.Types.Mixed, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
    requestId: { type: String, default: null },
  },
  { collection: 'audit_events', versionKey: false, strict: 'throw', minimize: false },
);
auditSchema.index({ at: -1 }, { name: 'at' });
auditSchema.index({ type: 1, at: -1 }, { name: 'type_at' });
auditSchema.index({ 'actor.id': 1, at: -1 }, { name: 'actor_at' });
auditSchema.index({ 'target.id': 1, at: -1 }, { name: 'target_at' });

export type AuditModel = Model<StoredAuditEvent>;

export function auditModel(connection: Connection): AuditModel {
  return (connection.models.AuditEvent as AuditModel | undefined) ?? connection.model<StoredAuditEvent>('AuditEvent', auditSchema);
}

function toEvent(doc: StoredAuditEvent): AuditEvent {
  return {
    id: doc._id,
    at: doc.at,
    type: doc.type,
    actor: doc.actor as AuditActor,
    target: doc.target,
    details: doc.details,
    requestId: doc.requestId,
  };
}

/**
 * The append-only audit log (collection `audit_events`): insert and query, no update or delete
 * API. Retention and sign-in/token events come later and go through the same `record`.
 */
export function createAuditLog({ model, now = () => new Date() }: { model: AuditModel; now?: () => Date }): AuditLog {
  return {
    async record(event) {
      const doc: StoredAuditEvent = {
        _id: randomUUID(),
        at: now(),
        type: event.type,
        actor: { type: event.actor.type, id: event.actor.id },
        target: event.target === undefined ? null : { type: event.target.type, id: event.target.id },
        details: { ...event.details },
        requestId: event.requestId ?? null,
      };
      await model.collection.insertOne(doc as never);
      return toEvent(doc);
    },
    async query(query) {
      const filter: Record<string, unknown> = {};
      if (query.type !== undefined) filter.type = query.type;
      const ids = [query.userId, query.clientId].filter((id): id is string => id !== undefined);
      if (ids.length > 0) {
        filter.$and = ids.map((id) => ({ $or: [{ 'actor.id': id }, { 'target.id': id }] }));
      }
      const at: Record<string, Date> = {};
      if (query.from !== undefined) at.$gte = query.from;
      if (query.to !== undefined) at.$lte = query.to;
      if (query.before !== undefined) at.$lt = query.before;
      if (Object.keys(at).length > 0) filter.at = at;
      const docs = await model.find(filter).sort({ at: -1, _id: -1 }).limit(query.limit).lean<StoredAuditEvent[]>().exec();
      return docs.map(toEvent);
    },
  };
}

export async function ensureAuditIndexes(model: AuditModel): Promise<void> {
  await model.createIndexes();
}
