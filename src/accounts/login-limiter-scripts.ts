import { redisScript } from '../storage/oidc/redis-scripts.ts';

/** The login limiter's Redis scripts (src/accounts/login-limiter.ts): each of its steps in one round trip, atomic. */

/**
 * KEYS[1] the pair's failure counter (rate-limiter-flexible's key), KEYS[2] the pair's lockout
 * level, KEYS[3..5] the lock keys of the three scopes. Returns how many of the first two exist
 * (0: the pair is clean), then each lock's end (epoch ms, nil when absent): the check of a
 * sign-in in one round trip.
 */
export const READ_LOCKS = redisScript(`
local out = { redis.call('EXISTS', KEYS[1], KEYS[2]) }
for i = 3, 5 do out[#out + 1] = redis.call('GET', KEYS[i]) end
return out
`);
/**
 * KEYS[1] a lock key; ARGV[1] now (epoch ms), ARGV[2] the lock's end (epoch ms), ARGV[3] its
 * lifetime in ms. Sets the lock unless one is in force (on Gatehouse's clock, not Redis's TTL):
 * 1 when this call locked the key, 0 when another already had.
 */
export const CLAIM_LOCK = redisScript(`
local ends = redis.call('GET', KEYS[1])
if ends and tonumber(ends) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

/**
 * KEYS[1..3] the failure counters (account_ip, account, ip), KEYS[4] the pair's lockout level,
 * KEYS[5..7] the lock keys, KEYS[8..10] the attempts in flight (sorted sets: attempt id, scored
 * by its start); ARGV[1] now (epoch ms, Gatehouse's clock), ARGV[2..4] the thresholds, ARGV[5]
 * how long an attempt stays in flight at most (ms), ARGV[6] this attempt's id. Returns { pair
 * counter or level exists, outcome, the three locks' ends, [the oldest attempt in flight] }:
 * outcome 0 a lock is in force (or nothing refused: 4), -i failure counter i is at its
 * threshold, i its failures and attempts in flight are (then the id of its oldest attempt in
 * flight follows: waiters see the attempts ahead of them end). Attempts older than ARGV[5] are
 * dropped first, each on its own (a process that died mid-attempt holds its place no longer);
 * only an attempt let through (4) is added to each set, whose key then lives as long.
 */
export const ATTEMPT = redisScript(`
local out = { redis.call('EXISTS', KEYS[1], KEYS[4]), 4 }
local now = tonumber(ARGV[1])
local locked = false
for i = 5, 7 do
  local ends = redis.call('GET', KEYS[i])
  out[#out + 1] = ends
  if ends and tonumber(ends) > now then locked = true end
end
if locked then
  out[2] = 0
  return out
end
local failures = {}
for i = 1, 3 do
  failures[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if failures[i] >= tonumber(ARGV[i + 1]) then
    out[2] = -i
    return out
  end
end
for i = 1, 3 do
  local attempts = KEYS[i + 7]
  redis.call('ZREMRANGEBYSCORE', attempts, '-inf', now - tonumber(ARGV[5]))
  if failures[i] + redis.call('ZCARD', attempts) >= tonumber(ARGV[i + 1]) then
    out[2] = i
    out[#out + 1] = redis.call('ZRANGE', attempts, 0, 0)[1]
    return out
  end
end
for i = 8, 10 do
  redis.call('ZADD', KEYS[i], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[i], ARGV[5])
end
return out
`);
/**
 * KEYS[1..3] the failure counters, KEYS[4..6] the attempts in flight; ARGV[1..3] the counting
 * windows (seconds), ARGV[4] the attempt's id. The attempt becomes a failure: one added to each
 * counter (before the attempt leaves the sets: the sum never drops below what may still fail),
 * the counts returned.
 */
export const FAILED = redisScript(`
local out = {}
for i = 1, 3 do
  redis.call('SET', KEYS[i], 0, 'EX', ARGV[i], 'NX')
  out[i] = redis.call('INCR', KEYS[i])
end
for i = 4, 6 do redis.call('ZREM', KEYS[i], ARGV[4]) end
return out
`);
/** KEYS[1] the pair's counter, KEYS[2] its lockout level (both deleted), KEYS[3..5] the attempts in flight; ARGV[1] the attempt's id (it leaves them). */
export const SUCCEEDED = redisScript(`
redis.call('DEL', KEYS[1], KEYS[2])
for i = 3, 5 do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 0
`);
/** KEYS[1..3] the attempts in flight; ARGV[1] the attempt's id: it ended with neither failure nor success. */
export const ENDED = redisScript(`
for i = 1, 3 do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 0
`);
