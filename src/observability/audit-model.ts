import { Mongoose, Schema, type Model, type Types } from 'mongoose';
import { AUDIT_EVENT_TYPES } from './audit-types.ts';

/** An audit event as stored in `audit_events` (src/observability/audit-trail.ts shows it). */
export interface StoredAuditEvent {
  _id: Types.ObjectId;
  at: Date;
  type: string;
  actor: { type: string; id: string | null; username: string | null };
  client: string | null;
  target: { type: string; id: string | null } | null;
  ip: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
}

const ACTOR_TYPES = ['user', 'client', 'cli', 'system', 'anonymous'];
// `type` is a field name here, so the schema type key is `$type`.
const nullableString = { $type: String, default: null };
const actorSchema = new Schema(
  { type: { $type: String, enum: ACTOR_TYPES, required: true }, id: nullableString, username: nullableString },
  { _id: false, strict: 'throw', typeKey: '$type' },
);
const targetSchema = new Schema({ type: { $type: String, required: true }, id: nullableString }, { _id: false, strict: 'throw', typeKey: '$type' });

/** The one shape of a stored audit event: every write is checked against it (strict: unknown fields refused). */
export const auditEventSchema = new Schema<StoredAuditEvent>(
  {
    _id: { $type: Schema.Types.ObjectId, required: true },
    at: { $type: Date, required: true },
    type: { $type: String, enum: Object.keys(AUDIT_EVENT_TYPES), required: true },
    actor: { $type: actorSchema, required: true },
    client: nullableString,
    target: { $type: targetSchema, default: null },
    ip: nullableString,
    details: { $type: Schema.Types.Mixed, default: () => ({}) },
    requestId: nullableString,
  },
  { versionKey: false, strict: 'throw', typeKey: '$type', minimize: false },
);

/**
 * The schema as a model of its own, for checking events: the trail writes batches with one
 * insertMany on the collection it is given, after every document passed this model's validation
 * (src/storage/validated-writes.ts). It never connects anywhere.
 */
export const auditEventShape: Model<StoredAuditEvent> = new Mongoose().model<StoredAuditEvent>('AuditEvent', auditEventSchema, 'audit_events');
