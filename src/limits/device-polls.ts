import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { lockKey, type DocumentLocks } from '../storage/document-locks.ts';
import { ensureExpiryIndex, startSweeper, type Sweeper } from '../storage/expiry.ts';
import { lockedSweep } from '../storage/locked-sweep.ts';
import { redisScript } from '../storage/oidc/redis-scripts.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * When each pending device code was last polled at the token endpoint, and its polling interval
 * (RFC 8628 §3.5): shared by every instance, on the store's clock — instances' clocks may
 * disagree by seconds, and a device polling at its interval from one to another must not be
 * told to slow down.
 */
export interface DevicePolls {
  /**
   * Records a poll of a pending device code; true when it came sooner than the code's interval
   * (less POLL_LEEWAY_MS) after the one before (`slow_down`): its interval then grows by 5 s for
   * this and every later poll. The first poll of a code is never too soon.
   */
  tooSoon(deviceCode: string): Promise<boolean>;
  close(): void;
}

export interface DevicePollsDeps {
  /** Poll times in Redis when given (one script per poll), else in MongoDB. */
  readonly redis: Redis | undefined;
  readonly mongo: Connection;
  readonly locks: DocumentLocks;
  readonly logger: Logger;
  /** GATEHOUSE_REDIS_PREFIX. */
  readonly redisPrefix?: string;
  /** How long a code's record is kept: the device code's lifetime (GATEHOUSE_DEVICE_CODE_TTL), seconds. */
  readonly lifetimeSeconds: number;
  /**
   * Tests only (StartOptions.storeClock): stands in for the store's own clock — Redis `TIME`,
   * MongoDB's `localTime` — which they cannot move. One for every instance on the stores.
   */
  readonly storeClock?: (() => number) | undefined;
  /** Gatehouse's clock: the expiry sweep's cutoff where the server has no TTL index (records expire on the store's clock; a lifetime dwarfs any skew). */
  readonly now: () => number;
  readonly sweepIntervalMs?: number;
}

/** RFC 8628 §3.2: the interval the device authorization response names (src/oidc/grants/slow-down.ts), also the one clients assume without it. */
export const DEFAULT_INTERVAL_MS = 5000;
/** RFC 8628 §3.5: slow_down adds 5 s to the interval. */
export const SLOW_DOWN_STEP_MS = 5000;
/**
 * How much sooner than its interval a poll may come and still not be `slow_down`. A poll is timed
 * when the library is done judging it, so a device polling on a timer of exactly the interval
 * (Go's golang.org/x/oauth2 ticks from one request's start to the next) shows a gap shorter by as
 * much as the previous poll took longer: 4.7 s on a busy machine.
 */
export const POLL_LEEWAY_MS = 1000;

const COLLECTION = 'device_polls';

/** KEYS[1] the code's record; ARGV now ('' for Redis's own clock), first interval, step, lifetime (ms). 1 when the poll is too soon. */
const POLL = redisScript(`
local state = redis.call('HMGET', KEYS[1], 'last', 'interval')
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local interval = tonumber(state[2]) or tonumber(ARGV[2])
local soon = 0
if state[1] and now - tonumber(state[1]) < interval - ${POLL_LEEWAY_MS} then
  interval = interval + tonumber(ARGV[3])
  soon = 1
end
redis.call('HSET', KEYS[1], 'last', now, 'interval', interval)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return soon
`);

interface PollRecord {
  _id: string;
  last: number;
  interval: number;
  expire: Date;
}

/** A record is named by a hash of the code: the code itself is a credential, and never stored or logged. */
const nameOf = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('base64url');

/**
 * Redis: one script reads and writes a code's record. MongoDB (`device_polls`): a read and a
 * write under the record's document lock (FerretDB v1 runs updates as a read and a whole-document
 * write, docs/STORAGE.md), so two polls at once are judged one after the other; records expire
 * with the code (TTL index, or the locked sweep where the server has none).
 */
export async function openDevicePolls({ redis, mongo, locks, logger, redisPrefix = '', lifetimeSeconds, storeClock, now, sweepIntervalMs = 60_000 }: DevicePollsDeps): Promise<DevicePolls> {
  const lifetimeMs = lifetimeSeconds * 1000;
  if (redis !== undefined) {
    return {
      async tooSoon(deviceCode) {
        const key = `${redisPrefix}gh_device_poll:${nameOf(deviceCode)}`;
        return (await POLL.run(redis, [key], [storeClock?.() ?? '', DEFAULT_INTERVAL_MS, SLOW_DOWN_STEP_MS, lifetimeMs])) === 1;
      },
      close() {},
    };
  }
  const db = mongo.db;
  if (db === undefined) throw new Error('openDevicePolls needs a connected MongoDB connection');
  const rows = db.collection(COLLECTION);
  const records = db.collection<PollRecord>(COLLECTION);
  const lockOf = (id: string) => lockKey(COLLECTION, id);
  // The server's clock as `hello` reports it: FerretDB v1 has no `$$NOW` in updates. One more round trip per poll, under the lock.
  const serverNow = async () => storeClock?.() ?? ((await db.command({ hello: 1 })) as { localTime: Date }).localTime.getTime();
  let sweeper: Sweeper | undefined;
  if (!(await ensureExpiryIndex(rows, 'expire'))) {
    sweeper = startSweeper({ targets: [lockedSweep(locks, rows, 'expire', (row) => lockOf(String(row._id)))], intervalMs: sweepIntervalMs, logger, now: () => new Date(storeClock?.() ?? now()) });
  }
  return {
    tooSoon(deviceCode) {
      const id = nameOf(deviceCode);
      return locks.hold(lockOf(id), async () => {
        const at = await serverNow();
        const seen = await records.findOne({ _id: id });
        const live = seen !== null && seen.expire.getTime() > at ? seen : undefined;
        const soon = live !== undefined && at - live.last < live.interval - POLL_LEEWAY_MS;
        const interval = (live?.interval ?? DEFAULT_INTERVAL_MS) + (soon ? SLOW_DOWN_STEP_MS : 0);
        await records.updateOne({ _id: id }, { $set: { last: at, interval, expire: new Date(at + lifetimeMs) } }, { upsert: true });
        return soon;
      });
    },
    close: () => sweeper?.stop(),
  };
}
