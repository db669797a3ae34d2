import { redisScript } from '../storage/oidc/redis-scripts.ts';
import { TAKE_BACK_LUA } from './failure-counters.ts';

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
 * KEYS[5..7] the lock keys, KEYS[8..10] the in-flight counts; ARGV[1] now (epoch ms), ARGV[2..4]
 * the thresholds, ARGV[5] the in-flight counts' lifetime (ms). Returns { pair counter or level
 * exists, outcome, the three locks' ends }: outcome 0 a lock is in force (or nothing refused: 4),
 * -i failure counter i is at its threshold, i its failures and attempts in flight are. Only an
 * attempt let through (4) adds one to each in-flight count.
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
  if failures[i] + tonumber(redis.call('GET', KEYS[i + 7]) or '0') >= tonumber(ARGV[i + 1]) then
    out[2] = i
    return out
  end
end
for i = 8, 10 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[5])
end
return out
`);
/**
 * KEYS[1..3] the failure counters, KEYS[4..6] the in-flight counts; ARGV[1..3] the counting
 * windows (seconds). The attempt becomes a failure: one added to each counter (before its
 * in-flight count goes: the sum never drops below what may still fail), the counts returned.
 */
export const FAILED = redisScript(`${TAKE_BACK_LUA}
local out = {}
for i = 1, 3 do
  redis.call('SET', KEYS[i], 0, 'EX', ARGV[i], 'NX')
  out[i] = redis.call('INCR', KEYS[i])
end
take_back(4)
return out
`);
/** KEYS[1] the pair's counter, KEYS[2] its lockout level (both deleted), KEYS[3..5] the in-flight counts (one taken back). */
export const SUCCEEDED = redisScript(`${TAKE_BACK_LUA}
redis.call('DEL', KEYS[1], KEYS[2])
take_back(3)
return 0
`);
