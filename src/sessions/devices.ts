import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import { dateClock, systemClock, type Clock } from '../clock.ts';
import { removeRowsOfDeletedUsers } from '../accounts/deleted-user-rows.ts';
import { keyedBatchedWriter } from '../storage/batched-writer.ts';
import { insertCommand } from '../storage/insert-command.ts';

/**
 * Where each sign-in session was last used from: the browser and the address of its latest
 * authorization, for the account page's device list. Keyed by the session's uid (the id its
 * tokens carry), in `session_devices`; never a token, a cookie or anything the session could be
 * taken over with. Rows of ended sessions are dropped when their user's list is next read.
 */
export interface StoredSessionDevice {
  _id: string;
  userId: string;
  userAgent: string;
  ip: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

const schema = new Schema<StoredSessionDevice>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    userAgent: { type: String, default: '' },
    ip: { type: String, default: '' },
    firstSeenAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
  },
  { collection: 'session_devices', versionKey: false, strict: 'throw', timestamps: false },
);
schema.index({ userId: 1 }, { name: 'userId' });

export interface SessionDevice {
  /** "Chrome on Windows", or the first part of an unknown user agent. */
  readonly device: string;
  /** The recognised browser and operating system (pages put them in their own words). */
  readonly browser: string | null;
  readonly system: string | null;
  readonly ip: string;
  readonly lastSeenAt: Date;
}

export interface SessionDevices {
  /**
   * A session was used (an authorization went through it): noted now, written with the next
   * batch. `newSession`: the session was made by this authorization (a sign-in in a browser
   * without one), so its uid is new and no row can exist for it yet.
   */
  seen(sessionUid: string, userId: string, ip: string, userAgent: string, newSession?: boolean): void;
  /** The devices of the user's live sessions by uid (this instance's pending notes first); rows of other (ended) sessions are deleted. */
  ofUser(userId: string, liveUids: readonly string[]): Promise<Map<string, SessionDevice>>;
  /** Writes what is noted now. */
  flush(): Promise<void>;
  /** Final flush; stops the timer. */
  close(): Promise<void>;
}

export interface SessionDevicesDeps {
  readonly connection: Connection;
  readonly logger: { warn(fields: object, message: string): void };
  /** When a session was used; `clock`'s time unless given. */
  readonly now?: () => Date;
  readonly flushIntervalMs?: number;
  readonly maxBatch?: number;
  /** Gatehouse's clock (src/clock.ts): the flush timer's, and the time of each note. */
  readonly clock?: Clock;
  /** Create the collection's indexes (default); false when they exist already or the caller only reads (src/storage/index-mark.ts). */
  readonly indexes?: boolean;
}

interface Note {
  readonly userId: string;
  readonly ip: string;
  readonly userAgent: string;
  readonly at: Date;
  /** No row exists for the session yet: written with an insert, not an upsert. */
  readonly fresh: boolean;
}

const MAX_USER_AGENT = 512;

const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** The browser and operating system of a user agent, when recognisable. */
export function parseUserAgent(userAgent: string): { browser: string | null; system: string | null } {
  return {
    browser: BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null,
    system: SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null,
  };
}

/** A short, human name for a user agent: browser and operating system when recognisable. */
export function describeUserAgent(userAgent: string): string {
  const { browser, system } = parseUserAgent(userAgent);
  if (browser !== null && system !== null) return `${browser} on ${system}`;
  if (browser !== null || system !== null) return (browser ?? system)!;
  return userAgent.trim().split(/\s+/)[0]?.slice(0, 40) || 'Unknown device';
}

/**
 * Like last sign-in times (accounts/last-login.ts), written in batches off the sign-in's path:
 * one `update` per second under load instead of one per authorization — and the rows of sessions
 * made by a sign-in, which cannot exist yet, with one `insert` instead (FerretDB v1 runs each
 * upsert statement as a read and a write: ≈ 1 ms of the stores' CPU per sign-in, against a
 * fraction of that for a row of an insert; docs/PERFORMANCE.md, seventh round). A crash loses
 * the last second of notes: a device then shows as unknown until the session is used again.
 */
export async function createSessionDevices({ connection, logger, clock, now = dateClock(clock ?? systemClock), flushIntervalMs = 1000, maxBatch = 500, indexes = true }: SessionDevicesDeps): Promise<SessionDevices> {
  const model: Model<StoredSessionDevice> = (connection.models.SessionDevice as Model<StoredSessionDevice> | undefined) ?? connection.model<StoredSessionDevice>('SessionDevice', schema);
  if (indexes) await model.createIndexes();
  const pending = new Map<string, Note>();
  const db = connection.db;
  if (db === undefined) throw new Error('MongoDB connection is not open');
  // A duplicate key is no error here (insert-command.ts): a new session's uid has no row; were there one, it keeps its older note until the next use.
  const insertRows = insertCommand<StoredSessionDevice>(db, 'session_devices');
  const rows = model.collection as unknown as mongo.Collection<StoredSessionDevice>;
  const writer = keyedBatchedWriter(pending, {
    maxBatch,
    flushIntervalMs,
    clock,
    async write(batch) {
      const fresh = batch.filter(([, note]) => note.fresh);
      const known = batch.filter(([, note]) => !note.fresh);
      try {
        await insertRows(fresh.map(([uid, note]) => ({ _id: uid, userId: note.userId, ip: note.ip, userAgent: note.userAgent, firstSeenAt: note.at, lastSeenAt: note.at })));
        // The driver's own bulkWrite: every value is already of its schema type (sign-ins.ts).
        if (known.length > 0) await rows.bulkWrite(
          known.map(([uid, note]) => ({
            updateOne: {
              filter: { _id: uid },
              update: { $set: { userId: note.userId, ip: note.ip, userAgent: note.userAgent, lastSeenAt: note.at }, $setOnInsert: { firstSeenAt: note.at } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
        // A user deleted since the note (here or at another instance) gets no row back.
        await removeRowsOfDeletedUsers(db, 'session_devices', 'userId', batch.map(([, note]) => note.userId));
      } catch (error) {
        // Dropped, not retried: a newer use of the session writes it again.
        logger.warn({ err: error, dropped: batch.length }, 'could not record where sessions were used');
      }
    },
  });
  const { flush } = writer;

  return {
    seen(sessionUid, userId, ip, userAgent, newSession = false) {
      // A later use of a new session before the batch went: its row still does not exist.
      const fresh = newSession || pending.get(sessionUid)?.fresh === true;
      pending.set(sessionUid, { userId, ip, userAgent: userAgent.slice(0, MAX_USER_AGENT), at: now(), fresh });
      writer.noted();
    },

    async ofUser(userId, liveUids) {
      await flush();
      const rows = await model.find({ userId }).lean<StoredSessionDevice[]>().exec();
      const live = new Set(liveUids);
      const ended = rows.filter((row) => !live.has(row._id)).map((row) => row._id);
      if (ended.length > 0) await model.deleteMany({ _id: { $in: ended }, userId }).exec();
      return new Map(rows.filter((row) => live.has(row._id)).map((row) => [row._id, { device: describeUserAgent(row.userAgent), ...parseUserAgent(row.userAgent), ip: row.ip, lastSeenAt: row.lastSeenAt }]));
    },

    flush,

    close: writer.close,
  };
}
