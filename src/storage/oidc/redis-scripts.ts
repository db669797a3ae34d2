import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts make each multi-key change atomic. Records are hashes:
 *   payload       the oidc-provider payload as JSON (never re-encoded in Lua: cjson would turn
 *                 empty arrays into objects)
 *   consumed      epoch seconds; consumedAtMs: milliseconds of the first consumption
 *   id            the record id; grantKey: the grant set it belongs to; indexKeys: its
 *                 uid / userCode index keys, space-separated
 * The scripts derive grant and index keys from the record, so on Redis Cluster every key must
 * hash to one slot: give the prefix a hash tag (docs/STORAGE.md).
 */

const UNLINK_RECORD = `
local function unlink_record(key)
  local f = redis.call('HMGET', key, 'id', 'grantKey', 'indexKeys')
  if f[2] then redis.call('SREM', f[2], key) end
  if f[3] then
    for index in string.gmatch(f[3], '%S+') do
      if redis.call('GET', index) == f[1] then redis.call('DEL', index) end
    end
  end
  redis.call('DEL', key)
end
`;

/**
 * KEYS[1] record, KEYS[2] grant set (when ARGV[3] == '1'), then index keys.
 * ARGV[1] ttl seconds (0 = no expiry), ARGV[2] id, ARGV[3] has grant, ARGV[4..] HSET pairs.
 * The grant set lives as long as its longest-lived member. Returns 1 when the record was created, 0 when it replaced one.
 */
const UPSERT = `${UNLINK_RECORD}
local ttl = tonumber(ARGV[1])
local existed = redis.call('EXISTS', KEYS[1])
unlink_record(KEYS[1])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
local first = 2
if ARGV[3] == '1' then
  local grant = KEYS[2]
  local existed = redis.call('EXISTS', grant)
  redis.call('SADD', grant, KEYS[1])
  if ttl == 0 then
    redis.call('PERSIST', grant)
  else
    local current = redis.call('TTL', grant)
    if existed == 0 or (current >= 0 and current < ttl) then redis.call('EXPIRE', grant, ttl) end
  end
  first = 3
end
for i = first, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[i], ARGV[2], 'EX', ttl) else redis.call('SET', KEYS[i], ARGV[2]) end
end
if existed == 0 then return 1 end
return 0
`;

/**
 * KEYS[1] record. ARGV[1] consumed (epoch s), ARGV[2] now (ms).
 * Returns {1} for the first consumption, {-1, firstMs} when already consumed, {0} when absent.
 * HSET leaves the record's TTL untouched.
 */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local first = redis.call('HGET', KEYS[1], 'consumedAtMs')
if first then return {-1, first} end
redis.call('HSET', KEYS[1], 'consumed', ARGV[1], 'consumedAtMs', ARGV[2])
return {1}
`;

/**
 * KEYS[1] record. ARGV[1] payload, ARGV[2] id, ARGV[3] ttl seconds.
 * Creates the record unless it exists: returns nil when this call created it, else the payload
 * of the one that was there (ReplayDetection, replay-claims.ts).
 */
const CLAIM = `
local existing = redis.call('HGET', KEYS[1], 'payload')
if existing then return existing end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'id', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return false
`;

/** KEYS[1] record. */
const DESTROY = `${UNLINK_RECORD}
unlink_record(KEYS[1])
return 1
`;

/** KEYS[1] grant set: removes every member record (of any model), their indexes and the set. */
const REVOKE_GRANT = `${UNLINK_RECORD}
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do unlink_record(key) end
redis.call('DEL', KEYS[1])
return #members
`;

export interface RedisScript {
  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

/** A Lua script run by EVALSHA (one round trip), sent in full once when Redis does not know it yet. */
export function redisScript(source: string): RedisScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

export const scripts = {
  upsert: redisScript(UPSERT),
  consume: redisScript(CONSUME),
  claim: redisScript(CLAIM),
  destroy: redisScript(DESTROY),
  revokeGrant: redisScript(REVOKE_GRANT),
};
