import { Schema, type Connection, type Model } from 'mongoose';

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
  /** A session was used (an authorization went through it); fire and forget. */
  seen(sessionUid: string, userId: string, ip: string, userAgent: string): Promise<void>;
  /** The devices of the user's live sessions by uid; rows of other (ended) sessions are deleted. */
  ofUser(userId: string, liveUids: readonly string[]): Promise<Map<string, SessionDevice>>;
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

export async function createSessionDevices({ connection, now = () => new Date() }: { connection: Connection; now?: () => Date }): Promise<SessionDevices> {
  const model: Model<StoredSessionDevice> = (connection.models.SessionDevice as Model<StoredSessionDevice> | undefined) ?? connection.model<StoredSessionDevice>('SessionDevice', schema);
  await model.createIndexes();
  return {
    async seen(sessionUid, userId, ip, userAgent) {
      const at = now();
      await model
        .updateOne({ _id: sessionUid }, { $set: { userId, ip, userAgent: userAgent.slice(0, MAX_USER_AGENT), lastSeenAt: at }, $setOnInsert: { firstSeenAt: at } }, { upsert: true })
        .exec();
    },

    async ofUser(userId, liveUids) {
      const rows = await model.find({ userId }).lean<StoredSessionDevice[]>().exec();
      const live = new Set(liveUids);
      const ended = rows.filter((row) => !live.has(row._id)).map((row) => row._id);
      if (ended.length > 0) await model.deleteMany({ _id: { $in: ended }, userId }).exec();
      return new Map(rows.filter((row) => live.has(row._id)).map((row) => [row._id, { device: describeUserAgent(row.userAgent), ...parseUserAgent(row.userAgent), ip: row.ip, lastSeenAt: row.lastSeenAt }]));
    },
  };
}
