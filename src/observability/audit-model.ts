import { Mongoose, Schema, Types, type Model } from 'mongoose';
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

const ACTOR_TYPES = ['user', 'client', 'cli', 'system', 'initial_access_token', 'anonymous'];
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

const STORED_FIELDS = ['_id', 'actor', 'at', 'client', 'details', 'ip', 'requestId', 'target', 'type'] as const;
const ACTOR_FIELDS = ['id', 'type', 'username'] as const;
const TARGET_FIELDS = ['id', 'type'] as const;

const nullOrString = (value: unknown) => value === null || typeof value === 'string';
const plain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
const exactly = (value: Record<string, unknown>, fields: readonly string[]) => {
  const keys = Object.keys(value);
  return keys.length === fields.length && fields.every((field) => Object.hasOwn(value, field));
};

/**
 * Whether a document is already exactly what `auditEventSchema` would store: every field present
 * with its stored type, nothing to cast, no default to apply, no unknown field. The audit trail
 * writes such a document as it is and runs mongoose's validation (which casts, fills defaults or
 * refuses) only for anything else: building a mongoose document per event was ≈ 5 % of the CPU of
 * a client_credentials request (docs/PERFORMANCE.md). test/unit/audit-shape.test.ts keeps this in
 * step with the schema.
 */
export function isStoredAuditShape(doc: unknown): doc is StoredAuditEvent {
  if (!plain(doc) || !exactly(doc, STORED_FIELDS)) return false;
  const { _id: id, at, type, actor, client, target, ip, details, requestId } = doc;
  if (!(id instanceof Types.ObjectId) || !(at instanceof Date) || Number.isNaN(at.getTime())) return false;
  if (typeof type !== 'string' || !Object.hasOwn(AUDIT_EVENT_TYPES, type)) return false;
  if (!plain(actor) || !exactly(actor, ACTOR_FIELDS) || typeof actor.type !== 'string' || !ACTOR_TYPES.includes(actor.type)) return false;
  if (!nullOrString(actor.id) || !nullOrString(actor.username)) return false;
  if (target !== null && (!plain(target) || !exactly(target, TARGET_FIELDS) || typeof target.type !== 'string' || target.type === '' || !nullOrString(target.id))) return false;
  return nullOrString(client) && nullOrString(ip) && nullOrString(requestId) && plain(details);
}

/**
 * An audit event as written to `audit_events`: the stored shape without what a reader puts back
 * (src/observability/audit-trail.ts `shown`). Documents written before it have every field.
 */
export interface WrittenAuditEvent {
  _id: Types.ObjectId;
  at: Date;
  type: string;
  actor: { type: string; id?: string | null; username?: string | null };
  /** Left out when null, or when it only repeats a client actor's id; kept as null when a client actor's event names no client. */
  client?: string | null;
  target?: { type: string; id?: string | null } | null;
  ip?: string | null;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

/**
 * The stored shape without its null fields, an empty `details` and a `client` that repeats a
 * client actor's id. What `details` holds is kept as given, null values too: a reader cannot tell
 * a missing member from a null one, and some are documented as null (`user.password_reset`'s
 * `details.secondFactor`); producers on the hot path leave out what they do not have instead
 * (src/oidc/events.ts: `token.issued` without a grant has no `grantId`). FerretDB v1's cost per event is per value it
 * converts (docs/PERFORMANCE.md), and a client_credentials token's event had four such values of
 * fourteen. Queries are unchanged: `{field: null}` also matches a missing field, and a client is
 * found by `client` or `actor.id` (auditFilter). Run after the schema check (isStoredAuditShape
 * or mongoose's validation), never instead of it.
 */
export function compactAuditEvent(doc: StoredAuditEvent): WrittenAuditEvent {
  const { _id, at, type, actor, client, target, ip, details, requestId } = doc;
  const written: WrittenAuditEvent = { _id, at, type, actor: { type: actor.type } };
  if (actor.id !== null) written.actor.id = actor.id;
  if (actor.username !== null) written.actor.username = actor.username;
  const repeatsActor = actor.type === 'client' && client === actor.id;
  if (!repeatsActor && (client !== null || actor.type === 'client')) written.client = client;
  if (target !== null) written.target = target.id === null ? { type: target.type } : { type: target.type, id: target.id };
  if (ip !== null) written.ip = ip;
  if (Object.keys(details).length > 0) written.details = details;
  if (requestId !== null) written.requestId = requestId;
  return written;
}
