import { Types, type mongo } from 'mongoose';
import { clockTimer, dateClock, systemClock, type Clock, type ClockTimer } from '../clock.ts';
import { batchedWriter } from '../storage/batched-writer.ts';
import { isDuplicateKey } from '../storage/duplicate-key.ts';
import type { InsertBatch } from '../storage/insert-command.ts';
import { validated } from '../storage/validated-writes.ts';
import { auditEventShape, compactAuditEvent, isStoredAuditShape, type StoredAuditEvent, type WrittenAuditEvent } from './audit-model.ts';
import type { AuditActor, AuditInput, AuditTarget } from './audit-input.ts';
import type { AuditEventType } from './audit-types.ts';
import { createIssuanceCounts, isClientCredentialsIssuance, type ClientCredentialsAudit } from './issuance-counts.ts';
import type { Logger } from './logger.ts';
import { currentRequestId, currentRequestIp } from './request-context.ts';

/** The one collection every audit event goes to. */
export const AUDIT_COLLECTION = 'audit_events';
/** A batch of audit events is written this long after its first event at the latest (on the clock). */
export const AUDIT_FLUSH_INTERVAL_MS = 1000;

export type { AuditActor, AuditInput, AuditTarget } from './audit-input.ts';

/** The one shape of an audit event, stored and shown alike. */
export interface AuditEvent {
  /** Sortable (an ObjectId as hex): newer events have greater ids; pages are cut by id. */
  readonly id: string;
  readonly at: Date;
  readonly type: AuditEventType;
  readonly actor: { readonly type: AuditActor['type']; readonly id: string | null; readonly username: string | null };
  /** The client involved, where there is one: the app a user signed in to, the admin client acting. */
  readonly client: string | null;
  readonly target: AuditTarget | null;
  /** The caller's address (of the request that caused the event); null outside requests (CLI). */
  readonly ip: string | null;
  /** Never secrets or password material. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | null;
}


/** Where protocol and sign-in code reports what happened: never blocks, never throws. */
export interface AuditSink {
  record(input: AuditInput): void;
}

export interface AuditQuery {
  readonly types?: readonly AuditEventType[] | undefined;
  /** Any of these matches the actor's id or username, or the target's id. */
  readonly users?: readonly string[] | undefined;
  /** Matches the event's client, or a client actor or target. */
  readonly clientId?: string | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** Events older than the one with this id (the previous page's `next`). */
  readonly before?: string | undefined;
  readonly limit: number;
}

export interface AuditPage {
  /** Newest first. */
  readonly events: AuditEvent[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  readonly next: string | null;
}

export interface AuditTrail extends AuditSink {
  /** Records the event and writes it now, with whatever else waits (operator actions). */
  write(input: AuditInput): Promise<AuditEvent>;
  query(query: AuditQuery): Promise<AuditPage>;
  /** How many stored events match (no paging). */
  count(query: Omit<AuditQuery, 'limit' | 'before'>): Promise<number>;
  /** Writes what waits now. */
  flush(): Promise<void>;
  /** Final flush; later events are only logged. */
  close(): Promise<void>;
  pending(): number;
  /** Whether a batch is being written right now (lets a test see its clock's jump start one). */
  readonly writing: boolean;
}

export type AuditCollection = mongo.Collection<WrittenAuditEvent>;

/** What the trail's buffer holds for each event (see `enqueue`). */
type Pending = WrittenAuditEvent | Unchecked;

export function auditCollection(db: mongo.Db): AuditCollection {
  return db.collection<WrittenAuditEvent>(AUDIT_COLLECTION);
}

export interface AuditTrailOptions {
  readonly collection: AuditCollection;
  /** How a batch is written (src/storage/insert-command.ts in the server); `collection.insertMany` by default. */
  readonly insert?: InsertBatch<WrittenAuditEvent>;
  readonly logger: Logger;
  /** A batch is written this long after its first event at the latest. */
  readonly flushIntervalMs?: number;
  /**
   * ... or as soon as this many events wait (500 by default: an insert command costs the driver
   * ≈ 1 ms of CPU whatever it holds, so 500 events a command cost Node about a third of what 100
   * did per event; the stores' cost is per document either way — docs/PERFORMANCE.md, perf19t).
   */
  readonly maxBatch?: number;
  /** Events kept while MongoDB is away; beyond that the oldest are dropped (and counted). */
  readonly maxBuffered?: number;
  readonly onDropped?: (count: number) => void;
  /** The events' time; by default the clock's. */
  readonly now?: () => Date;
  /** The clock of the flush timer and, unless `now` is given, of the events' times (src/clock.ts). */
  readonly clock?: Clock;
  /**
   * `each` (default): one event per client_credentials issuance. `per-minute`: one
   * `token.issued_summary` per client, address and minute (src/observability/issuance-counts.ts);
   * every issuance is still a log line.
   */
  readonly clientCredentials?: ClientCredentialsAudit;
}

/** The event's id: an ObjectId of its time's second (pages sort and are cut by it). */
function eventObjectId(at: Date): Types.ObjectId {
  return new Types.ObjectId(Types.ObjectId.generate(Math.floor(at.getTime() / 1000)));
}

/** Fills in the id, the time, the client and the current request's id and address. */
export function completeEvent(input: AuditInput, now: () => Date = () => new Date()): AuditEvent {
  return asEvent(completeStored(input, now));
}

/**
 * The event in its stored shape (what `auditEventSchema` stores), made once per event: its id an
 * ObjectId (no hex string and back), its target and details copies of the caller's (a caller
 * changing them later changes nothing stored).
 */
function completeStored(input: AuditInput, now: () => Date): StoredAuditEvent {
  const at = input.at ?? now();
  const { actor, target, details } = input;
  return {
    _id: eventObjectId(at),
    at,
    type: input.type,
    actor: { type: actor.type, id: actor.id, username: actor.username ?? null },
    client: input.client === undefined ? (actor.type === 'client' ? actor.id : null) : input.client,
    target: target == null ? null : { ...target },
    ip: input.ip === undefined ? (currentRequestIp() ?? null) : input.ip,
    details: details === undefined ? {} : { ...details },
    requestId: input.requestId === undefined ? (currentRequestId() ?? null) : input.requestId,
  };
}

/** The stored shape as the trail shows it (the id as hex). */
function asEvent(doc: StoredAuditEvent): AuditEvent {
  const { _id, at, type, actor, client, target, ip, details, requestId } = doc;
  return { id: _id.toHexString(), at, type: type as AuditEventType, actor: actor as AuditEvent['actor'], client, target, ip, details, requestId };
}

/** An event that is not already in its stored shape: mongoose's validation casts it, fills defaults or refuses it when its batch is written. */
class Unchecked {
  readonly doc: StoredAuditEvent;
  constructor(doc: StoredAuditEvent) {
    this.doc = doc;
  }
}

/**
 * Reads current and older documents alike: compact ones (compactAuditEvent: a missing field is
 * null, a missing `client` of a client actor is the actor), full ones, and those from before one
 * shape (sign-in events kept `ip` in details).
 */
function shown(doc: WrittenAuditEvent): AuditEvent {
  const legacyIp = typeof doc.details?.ip === 'string' ? doc.details.ip : null;
  const actorId = doc.actor.id ?? null;
  return {
    id: doc._id.toHexString(),
    at: doc.at,
    type: doc.type as AuditEventType,
    actor: { type: doc.actor.type as AuditActor['type'], id: actorId, username: doc.actor.username ?? null },
    client: Object.hasOwn(doc, 'client') ? (doc.client ?? null) : doc.actor.type === 'client' ? actorId : null,
    target: doc.target == null ? null : { type: doc.target.type, id: doc.target.id ?? null },
    ip: doc.ip ?? legacyIp,
    details: doc.details ?? {},
    requestId: doc.requestId ?? null,
  };
}

export function auditFilter(query: Omit<AuditQuery, 'limit'>): Record<string, unknown> {
  const and: Array<Record<string, unknown>> = [];
  if (query.types !== undefined && query.types.length > 0) and.push({ type: { $in: [...query.types] } });
  if (query.users !== undefined && query.users.length > 0) {
    const users = [...query.users];
    and.push({ $or: [{ 'actor.id': { $in: users } }, { 'actor.username': { $in: users } }, { 'target.id': { $in: users } }] });
  }
  if (query.clientId !== undefined) {
    and.push({ $or: [{ client: query.clientId }, { 'actor.id': query.clientId }, { 'target.id': query.clientId }] });
  }
  const at: Record<string, Date> = {};
  if (query.from !== undefined) at.$gte = query.from;
  if (query.to !== undefined) at.$lte = query.to;
  if (Object.keys(at).length > 0) and.push({ at });
  if (query.before !== undefined) and.push({ _id: { $lt: new Types.ObjectId(query.before) } });
  return and.length === 0 ? {} : { $and: and };
}

/**
 * The audit trail: one writer, one event shape, one collection. Every event is a log line
 * marked `audit: true` at once and goes to MongoDB in batches off the request path: `record`
 * only appends to a bounded buffer, a timer (or a full batch) writes it with one insertMany, so
 * a token response never waits for an audit write. Operator actions use `write`, which also
 * flushes. The price: events of the last second can be lost if the process dies (the log
 * stream has them), and a long MongoDB outage drops the oldest beyond `maxBuffered`.
 */
export function createAuditTrail({
  collection,
  insert = async (docs) => void (await collection.insertMany([...docs], { ordered: false })),
  logger,
  flushIntervalMs = AUDIT_FLUSH_INTERVAL_MS,
  maxBatch = 500,
  maxBuffered = 10_000,
  onDropped,
  clock,
  // The events' times come from the same clock as the timers: one minute for both (per-minute counts).
  now = dateClock(clock ?? systemClock),
  clientCredentials = 'each',
}: AuditTrailOptions): AuditTrail {
  const log = logger.child({ audit: true });
  /** Events waiting to be written: compact documents, or (rarely) ones the schema has yet to check. */
  let buffer: Pending[] = [];
  const logEvents = () => log.isLevelEnabled('info');
  let closed = false;
  const counts = clientCredentials === 'per-minute' ? createIssuanceCounts() : undefined;
  let countTimer: ClockTimer | undefined;

  /**
   * The batch's documents to write: those in their stored shape were made compact when they were
   * recorded; any other goes through the event schema now, and one that breaks it is logged and
   * left out. Plain values are taken as they are: no promise per event.
   */
  async function checked(batch: readonly Pending[]): Promise<WrittenAuditEvent[]> {
    const docs: WrittenAuditEvent[] = [];
    for (const entry of batch) {
      if (!(entry instanceof Unchecked)) {
        docs.push(entry);
        continue;
      }
      const doc = await validated(auditEventShape, entry.doc).catch((error: unknown) => {
        logger.error({ err: error, eventId: entry.doc._id.toHexString(), type: entry.doc.type }, 'audit event refused by its schema; not stored');
        return undefined;
      });
      if (doc !== undefined) docs.push(compactAuditEvent(doc));
    }
    return docs;
  }

  const writer = batchedWriter({
    pending: () => buffer.length,
    maxBatch,
    flushIntervalMs,
    clock,
    async writeBatch(max) {
      const batch = buffer.slice(0, max);
      try {
        const docs = await checked(batch);
        if (docs.length > 0) await insert(docs);
      } catch (error) {
        // A retried batch that had partly gone through: the stored ones are duplicates.
        if (!isDuplicateKey(error)) throw error;
      }
      buffer = buffer.slice(batch.length);
    },
    onFailure: (error, first) => first && logger.warn({ err: error, pending: buffer.length }, 'audit events could not be stored; will retry'),
    onRecovery: () => logger.info('audit events are being stored again'),
  });

  /**
   * Logs the event (at `info`) and buffers it, compact when it is already in its stored shape
   * (the usual case: isStoredAuditShape, then compactAuditEvent, once); answers its stored shape.
   */
  function enqueue(input: AuditInput): StoredAuditEvent {
    const doc = completeStored(input, now);
    if (logEvents()) {
      const { _id, type, actor, client, ip, target, details } = doc;
      log.info({ eventId: _id.toHexString(), type, actor, client, ip, target, details }, type);
    }
    if (closed) return doc;
    buffer.push(isStoredAuditShape(doc) ? compactAuditEvent(doc) : new Unchecked(doc));
    if (buffer.length > maxBuffered) {
      const dropped = buffer.length - maxBuffered;
      buffer = buffer.slice(dropped);
      onDropped?.(dropped);
    }
    return doc;
  }

  /** One client_credentials issuance, counted (per-minute mode): a log line now, a summary when its minute ends. */
  function count(input: AuditInput): void {
    const at = input.at ?? now();
    const ip = input.ip === undefined ? (currentRequestIp() ?? null) : input.ip;
    // The logger adds the request's id.
    log.info({ type: input.type, actor: input.actor, client: input.actor.id, ip, details: input.details, counted: true }, input.type);
    if (closed) return;
    counts!.add(input.actor.id, ip, at);
    if (counts!.full()) emitCounts(true);
    else armCountTimer();
  }

  function armCountTimer(): void {
    const end = counts?.nextEnd();
    if (countTimer !== undefined || end === undefined || closed) return;
    const timerClock = clock ?? systemClock;
    countTimer = clockTimer(timerClock, Math.max(0, end - timerClock.now()), () => {
      countTimer = undefined;
      emitCounts(false);
    });
  }

  /** The ended windows' summaries (all of them with `all`) go into the buffer like any event. */
  function emitCounts(all: boolean): void {
    if (counts === undefined) return;
    const due = counts.take(now().getTime(), all);
    for (const summary of due) enqueue(summary);
    if (due.length > 0) writer.noted();
    armCountTimer();
  }

  return {
    record(input) {
      try {
        if (counts !== undefined && isClientCredentialsIssuance(input)) return count(input);
        enqueue(input);
      } catch {
        return; // auditing must never change a response
      }
      writer.noted();
    },
    async write(input) {
      const event = asEvent(enqueue(input));
      await writer.drain();
      return event;
    },
    async query(query) {
      const docs = await collection
        .find(auditFilter(query) as mongo.Filter<WrittenAuditEvent>)
        .sort({ _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      const events = docs.slice(0, query.limit).map(shown);
      return { events, next: docs.length > query.limit ? (events.at(-1)?.id ?? null) : null };
    },
    count: (query) => collection.countDocuments(auditFilter(query) as mongo.Filter<WrittenAuditEvent>),
    flush() {
      emitCounts(true);
      return writer.flush();
    },
    async close() {
      emitCounts(true);
      countTimer?.cancel();
      closed = true;
      await writer.close();
      if (buffer.length > 0) logger.warn({ lost: buffer.length }, 'audit events not stored at shutdown');
    },
    pending: () => buffer.length,
    get writing() {
      return writer.writing;
    },
  };
}
