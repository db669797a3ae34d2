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
 * told to slow down. A poll is timed by when it arrived, not by when it was judged: the store's
 * time at judgement less how long the instance took to get there (a busy event loop, the
 * client-authentication gate's and the device code's store reads, a slow store), measured on the
 * instance's stopwatch. A device that honours its interval is never punished for our latency,
 * and one that polls too fast is not let through by it.
 */
export interface DevicePolls {
  /**
   * Records a poll of a pending device code that arrived at `arrivedAt` (on the stopwatch; now
   * when not given); true when it came sooner than the code's interval (less POLL_LEEWAY_MS)
   * after the one before (`slow_down`): its interval then grows by 5 s for this and every later
   * poll. The first poll of a code is never too soon, and a poll that arrived before the last
   * one recorded always is (two polls in flight at once).
   */
  tooSoon(deviceCode: string, arrivedAt?: number): Promise<boolean>;
  /** Stops the sweeper; resolves once a sweep under way has ended (the stores close next). */
  close(): Promise<void>;
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
   * MongoDB's `$currentDate` — which they cannot move. One for every instance on the stores.
   */
  readonly storeClock?: (() => number) | undefined;
  /** The instance's stopwatch (Wiring.stopwatch), on which `arrivedAt` was read. */
  readonly stopwatch: () => number;
  /** Gatehouse's clock: the expiry sweep's cutoff where the server has no TTL index (records expire on the store's clock; a lifetime dwarfs any skew). */
  readonly now: () => number;
  readonly sweepIntervalMs?: number;
}

/** RFC 8628 §3.2: the interval the device authorization response names (src/oidc/grants/slow-down.ts), also the one clients assume without it. */
export const DEFAULT_INTERVAL_MS = 5000;
/** RFC 8628 §3.5: slow_down adds 5 s to the interval. */
export const SLOW_DOWN_STEP_MS = 5000;
/**
 * How much sooner than its interval a poll may come and still not be `slow_down`. Polls are
 * timed by when they reached Gatehouse, but a device polling on a timer of exactly the interval
 * (Go's golang.org/x/oauth2 ticks from one request's start to the next) does not reach it at
 * exactly that rhythm: one request opens a connection (TCP, TLS) and the next reuses it, a proxy
 * or the network holds one longer, the device's own timer fires late once. Without Redis the
 * store's time also comes from a second command, up to a round trip apart (below).
 */
export const POLL_LEEWAY_MS = 1000;
/**
 * The most a poll's wait between its arrival and its judgement counts: a poll judged later than
 * this counts as having arrived this long before. The wait is Gatehouse's own measurement on a
 * monotonic clock, not anything the client sends (a client that trickles its body in only makes
 * its poll count as arriving sooner, when its headers came); the bound only keeps a stray
 * reading from putting an arrival minutes back.
 */
export const MAX_ARRIVAL_WAIT_MS = 3 * DEFAULT_INTERVAL_MS;

/** How long before `judgedAt` (stopwatch) a poll that arrived at `arrivedAt` (stopwatch) arrived, within [0, MAX_ARRIVAL_WAIT_MS]; 0 when its arrival was not noted. */
export function arrivalWait(arrivedAt: number | undefined, judgedAt: number): number {
  if (arrivedAt === undefined || !Number.isFinite(arrivedAt)) return 0;
  return Math.round(Math.min(MAX_ARRIVAL_WAIT_MS, Math.max(0, judgedAt - arrivedAt)));
}

const COLLECTION = 'device_polls';

/**
 * KEYS[1] the code's record; ARGV the store's time now ('' for Redis's own clock), how long
 * before now the poll arrived, the first interval, the step, the lifetime (ms). 1 when the poll
 * is too soon. The last arrival recorded never goes back (a poll judged after a later one).
 */
const POLL = redisScript(`
local state = redis.call('HMGET', KEYS[1], 'last', 'interval')
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local arrived = now - tonumber(ARGV[2])
local last = tonumber(state[1])
local interval = tonumber(state[2]) or tonumber(ARGV[3])
local soon = 0
if last and arrived - last < interval - ${POLL_LEEWAY_MS} then
  interval = interval + tonumber(ARGV[4])
  soon = 1
end
if last and last > arrived then arrived = last end
redis.call('HSET', KEYS[1], 'last', arrived, 'interval', interval)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return soon
`);

interface PollRecord {
  _id: string;
  /** When the last poll arrived (store's clock, ms). */
  last?: number;
  interval?: number;
  /** The store's time when the poll being judged reached it ($currentDate). */
  seen: Date;
  expire: Date;
}

/** A record is named by a hash of the code: the code itself is a credential, and never stored or logged. */
const nameOf = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('base64url');

/**
 * Redis: one script reads and writes a code's record, on Redis's `TIME` less the poll's wait
 * (measured when the script is sent). MongoDB (`device_polls`): under the record's document lock
 * (FerretDB v1 runs updates as a read and a whole-document write, docs/STORAGE.md), so two polls
 * at once are judged one after the other, two commands: a findAndModify that stamps the server's
 * time (`$currentDate`; FerretDB v1 has it, not `$$NOW`) and returns the record, then the
 * judgement's write. The wait is measured to the middle of that first round trip. Records expire
 * with the code (TTL index, or the locked sweep where the server has none).
 */
export async function openDevicePolls({ redis, mongo, locks, logger, redisPrefix = '', lifetimeSeconds, storeClock, stopwatch, now, sweepIntervalMs = 60_000 }: DevicePollsDeps): Promise<DevicePolls> {
  const lifetimeMs = lifetimeSeconds * 1000;
  if (redis !== undefined) {
    return {
      async tooSoon(deviceCode, arrivedAt) {
        const key = `${redisPrefix}gh_device_poll:${nameOf(deviceCode)}`;
        const wait = arrivalWait(arrivedAt, stopwatch());
        return (await POLL.run(redis, [key], [storeClock?.() ?? '', wait, DEFAULT_INTERVAL_MS, SLOW_DOWN_STEP_MS, lifetimeMs])) === 1;
      },
      async close() {},
    };
  }
  const db = mongo.db;
  if (db === undefined) throw new Error('openDevicePolls needs a connected MongoDB connection');
  const records = db.collection<PollRecord>(COLLECTION);
  const lockOf = (id: string) => lockKey(COLLECTION, id);
  let sweeper: Sweeper | undefined;
  if (!(await ensureExpiryIndex(records, 'expire'))) {
    sweeper = startSweeper({ targets: [lockedSweep(locks, records, 'expire', (row) => lockOf(String(row._id)))], intervalMs: sweepIntervalMs, logger, now: () => new Date(storeClock?.() ?? now()) });
  }
  return {
    tooSoon(deviceCode, arrivedAt) {
      const id = nameOf(deviceCode);
      return locks.hold(lockOf(id), async () => {
        const sent = stopwatch();
        const stamp = storeClock === undefined ? { $currentDate: { seen: true as const } } : { $set: { seen: new Date(storeClock()) } };
        // A record made here and never judged (the write below failed) still expires.
        const record = await records.findOneAndUpdate({ _id: id }, { ...stamp, $setOnInsert: { expire: new Date(now() + lifetimeMs) } }, { upsert: true, returnDocument: 'after' });
        if (record === null) throw new Error('device_polls: the upserted record was not returned');
        const at = record.seen.getTime();
        const arrived = at - arrivalWait(arrivedAt, (sent + stopwatch()) / 2);
        const last = record.last !== undefined && record.expire.getTime() > at ? record.last : undefined;
        const previous = last === undefined ? DEFAULT_INTERVAL_MS : (record.interval ?? DEFAULT_INTERVAL_MS);
        const soon = last !== undefined && arrived - last < previous - POLL_LEEWAY_MS;
        const interval = previous + (soon ? SLOW_DOWN_STEP_MS : 0);
        await records.updateOne({ _id: id }, { $set: { last: Math.max(arrived, last ?? arrived), interval, expire: new Date(at + lifetimeMs) } });
        return soon;
      });
    },
    close: async () => sweeper?.stop(),
  };
}
