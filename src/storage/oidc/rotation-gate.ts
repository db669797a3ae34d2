import type { Redis } from 'ioredis';
import { redisScript } from './redis-scripts.ts';

/**
 * The single-use gate of refresh-token rotation when Redis is configured: one atomic script
 * instead of an insert into MongoDB's `oidc_consumption`, so that a rotation writes MongoDB once
 * (its completion: one insert of the successor and the old token's rotation marker,
 * refresh-rotation.ts). The claim is only the fast gate; the durable truth stays in MongoDB, where
 * the marker's unique `_id` lets one completion per token through, so a Redis that lost its keys
 * cannot hand out two successors of one token on any MongoDB-wire server.
 */
export interface RotationGate {
  /**
   * Claims `key` for a rotation at `atMs`. A claim younger than `holdMs` keeps it: the answer
   * is that claim's time. An older one (a rotation whose response never became ready) is taken
   * over, as is a key Redis no longer has; the answer is then `undefined` (won).
   */
  claim(key: string, atMs: number, holdMs: number): Promise<number | undefined>;
  /**
   * Gives back the claim taken at `atMs` (its rotation failed and handed nothing out), so the
   * client's retry is not refused for the rest of the hold. Compare-and-delete: a claim taken
   * over since (another time in the key) stays.
   */
  release(key: string, atMs: number): Promise<void>;
  /**
   * Notes, for `holdMs`, that a completion of `key` whose reply was lost (it may have committed)
   * wrote `successorId`, which nobody received: the client's retry may meet a marker naming it.
   */
  noteLostReply(key: string, successorId: string, holdMs: number): Promise<void>;
  /** Whether such a note names `successorId`; `take` also removes it (one retry per note, atomically). */
  lostReply(key: string, successorId: string, take: boolean): Promise<boolean>;
}

/**
 * KEYS[1] claim. ARGV[1] now (ms, the instance's clock: tests move it), ARGV[2] hold (ms).
 * Returns the holding claim's time, or nil when this call took the claim. The key lives as long
 * as the hold; staleness is judged on the time stored in it, so a clock the caller moves counts.
 */
const CLAIM = redisScript(`
local first = redis.call('GET', KEYS[1])
if first and tonumber(ARGV[1]) - tonumber(first) < tonumber(ARGV[2]) then return first end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`);

/** KEYS[1] claim. ARGV[1] the claim's time. Deletes the key only while it still holds that time. */
const RELEASE = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return false
`);

/** KEYS[1] note. ARGV[1] successor id, ARGV[2] 1 to take it. 1 when the note names that successor. */
const LOST_REPLY = redisScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
return 1
`);

export function lostReplyKey(prefix: string, key: string): string {
  return `${prefix}lost:${key}`;
}

export function rotationClaimKey(prefix: string, key: string): string {
  return `${prefix}claim:${key}`;
}

export function createRedisRotationGate(redis: Redis, prefix: string): RotationGate {
  return {
    async claim(key, atMs, holdMs) {
      const first = await CLAIM.run(redis, [rotationClaimKey(prefix, key)], [atMs, Math.max(1, Math.ceil(holdMs))]);
      return first === null || first === undefined ? undefined : Number(first);
    },
    async release(key, atMs) {
      await RELEASE.run(redis, [rotationClaimKey(prefix, key)], [atMs]);
    },
    async noteLostReply(key, successorId, holdMs) {
      await redis.set(lostReplyKey(prefix, key), successorId, 'PX', Math.max(1, Math.ceil(holdMs)));
    },
    async lostReply(key, successorId, take) {
      return Number(await LOST_REPLY.run(redis, [lostReplyKey(prefix, key)], [successorId, take ? '1' : '0'])) === 1;
    },
  };
}
