/**
 * ROW_CLAIM: claims a batch of rows for one holder, skipping rows another holder has and rows whose
 * retry time (by the server's clock) has not come.
 *
 * KEYS per item (2): the row's claim key, its retry record key (hash: `a` attempts, `n` next try ms).
 * ARGV (2): token, lease ms.
 * Reply per item: `0` = not claimed, else the attempt number this claim is (attempts so far + 1).
 */
import type { RedisScript } from '../batcher.js';

export const ROW_CLAIM: RedisScript = {
  name: 'iamWatcherRowClaim',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token, lease = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS, 2 do
  local reply = 0
  local r = redis.call('HMGET', KEYS[i + 1], 'a', 'n')
  if (tonumber(r[2]) or 0) <= now and redis.call('SET', KEYS[i], token, 'NX', 'PX', lease) then
    reply = (tonumber(r[1]) or 0) + 1
  end
  out[#out + 1] = reply
end
return out
`,
};

/**
 * ROW_EXTEND: gives each claim of the holder a full lease again; a claim that expired (or that a
 * restarted server forgot) and that nobody took is taken again, so a replica that still has the row
 * in hand can finish it.
 *
 * KEYS per item (1): the row's claim key.
 * ARGV (2): token, lease ms.
 * Reply per item: `1` = held by the caller now, `0` = held by another.
 */
export const ROW_EXTEND: RedisScript = {
  name: 'iamWatcherRowExtend',
  lua: `
local token, lease = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  local reply = 0
  if v == token then
    redis.call('PEXPIRE', KEYS[i], lease)
    reply = 1
  elseif not v then
    redis.call('SET', KEYS[i], token, 'PX', lease)
    reply = 1
  end
  out[i] = reply
end
return out
`,
};

/**
 * ROW_RELEASE: ends each claim the holder has: deletes it, or, with a tombstone time, replaces it by
 * `final` for that long (a replica that read the row before its final UPDATE cannot claim it then);
 * with forget, deletes the row's retry record too.
 *
 * KEYS per item (2): the row's claim key, its retry record key.
 * ARGV (3): token, forget (`1` or `0`), tombstone ms (`0` = none).
 * Reply: the number of claims ended.
 */
export const ROW_RELEASE: RedisScript = {
  name: 'iamWatcherRowRelease',
  lua: `
local token, forget, tomb = ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = 0
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == token then
    if tomb > 0 then
      redis.call('SET', KEYS[i], 'final', 'PX', tomb)
    else
      redis.call('DEL', KEYS[i])
    end
    n = n + 1
  end
  if forget == '1' then redis.call('DEL', KEYS[i + 1]) end
end
return n
`,
};

/**
 * ROW_RETRY: records a failed attempt (attempts, next try = server time + delay, kept keep ms) and
 * deletes the holder's claim.
 *
 * KEYS (2): the row's claim key, its retry record key.
 * ARGV (4): token, attempts, delay ms, keep ms.
 * Reply: `1` = the claim was the caller's and is deleted, `0` = it was not.
 */
export const ROW_RETRY: RedisScript = {
  name: 'iamWatcherRowRetry',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], 'a', ARGV[2], 'n', now + tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
};

/**
 * ROW_CLAIMABLE: which rows a claim would take now (read only).
 *
 * KEYS per item (2): the row's claim key, its retry record key.
 * Reply per item: `1` = claimable, `0` = held or waiting for its retry time.
 */
export const ROW_CLAIMABLE: RedisScript = {
  name: 'iamWatcherRowClaimable',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS, 2 do
  local free = redis.call('EXISTS', KEYS[i]) == 0 and (tonumber(redis.call('HGET', KEYS[i + 1], 'n')) or 0) <= now
  out[#out + 1] = free and 1 or 0
end
return out
`,
};
