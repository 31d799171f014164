/**
 * The scripts of status watchers' row claims. Every script of one watcher touches keys of one hash
 * slot (`rows:{<watcher>}:`). KEYS[1] is always the watcher's attention index: a sorted set of row
 * ids scored by the time a row needs a look (a claim's expiry, a retry's time), so that rows left by a
 * dead replica or due for a retry are found without a scan of the table (ROW_DUE).
 */
import type { RedisScript } from '../batcher.js';

/** The server's clock in ms, and the index's life after the last write (7 days). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function touch(idx) redis.call('PEXPIRE', idx, 604800000) end
`;

/**
 * ROW_CLAIM: claims a batch of rows for one holder, skipping rows another holder has and rows whose
 * retry time (by the server's clock) has not come.
 *
 * KEYS: the index, then per row (2): its claim key, its retry record key (hash: `a` attempts, `n`
 * next try ms).
 * ARGV: token, lease ms, then the row ids in the same order.
 * Reply per row: `0` = not claimed, else the attempt number this claim is (attempts so far + 1).
 */
export const ROW_CLAIM: RedisScript = {
  name: 'iamWatcherRowClaim2',
  lua: `${NOW}
local idx, token, lease = KEYS[1], ARGV[1], ARGV[2]
local out = {}
for i = 2, #KEYS, 2 do
  local reply = 0
  local r = redis.call('HMGET', KEYS[i + 1], 'a', 'n')
  if (tonumber(r[2]) or 0) <= now and redis.call('SET', KEYS[i], token, 'NX', 'PX', lease) then
    reply = (tonumber(r[1]) or 0) + 1
    redis.call('ZADD', idx, now + tonumber(lease), ARGV[i / 2 + 2])
  end
  out[#out + 1] = reply
end
touch(idx)
return out
`,
};

/**
 * ROW_EXTEND: gives each claim of the holder a full lease again; a claim that expired (or that a
 * restarted server forgot) and that nobody took is taken again, so a replica that still has the row
 * in hand can finish it.
 *
 * KEYS: the index, then per row (1): its claim key.
 * ARGV: token, lease ms, then the row ids.
 * Reply per row: `1` = held by the caller now, `0` = held by another.
 */
export const ROW_EXTEND: RedisScript = {
  name: 'iamWatcherRowExtend2',
  lua: `${NOW}
local idx, token, lease = KEYS[1], ARGV[1], ARGV[2]
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  local reply = 0
  if v == token then
    redis.call('PEXPIRE', KEYS[i], lease)
    reply = 1
  elseif not v then
    redis.call('SET', KEYS[i], token, 'PX', lease)
    reply = 1
  end
  if reply == 1 then redis.call('ZADD', idx, now + tonumber(lease), ARGV[i + 1]) end
  out[i - 1] = reply
end
touch(idx)
return out
`,
};

/**
 * ROW_RELEASE: ends each claim the holder has: deletes it, or, with a tombstone time, replaces it by
 * `final` for that long (a replica that read the row before its final UPDATE cannot claim it then);
 * the row leaves the index; with forget, its retry record goes too.
 *
 * KEYS: the index, then per row (2): its claim key, its retry record key.
 * ARGV: token, forget (`1` or `0`), tombstone ms (`0` = none), then the row ids.
 * Reply: the number of claims ended.
 */
export const ROW_RELEASE: RedisScript = {
  name: 'iamWatcherRowRelease2',
  lua: `
local idx, token, forget, tomb = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local n = 0
for i = 2, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == token then
    if tomb > 0 then
      redis.call('SET', KEYS[i], 'final', 'PX', tomb)
    else
      redis.call('DEL', KEYS[i])
    end
    redis.call('ZREM', idx, ARGV[i / 2 + 3])
    n = n + 1
  end
  if forget == '1' then redis.call('DEL', KEYS[i + 1]) end
end
return n
`,
};

/**
 * ROW_RETRY: records a failed attempt (attempts, next try = server time + delay, kept keep ms),
 * deletes the holder's claim, and puts the row in the index at its next try time.
 *
 * KEYS (3): the index, the row's claim key, its retry record key.
 * ARGV (5): token, attempts, delay ms, keep ms, row id.
 * Reply: `1` = the claim was the caller's and is deleted, `0` = it was not.
 */
export const ROW_RETRY: RedisScript = {
  name: 'iamWatcherRowRetry2',
  lua: `${NOW}
local next = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[3], 'a', ARGV[2], 'n', next)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[1], next, ARGV[5])
touch(KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`,
};

/**
 * ROW_DUE: claims rows of the index whose time has come (a dead holder's claim expired, a retry is
 * due) and that nobody holds; an index entry whose row another replica holds now is left alone.
 *
 * KEYS (1): the index. Row keys are built from ARGV prefixes (the same hash slot as the index).
 * ARGV (5): token, lease ms, most rows, claim key prefix, retry key prefix.
 * Reply: a flat list of row id, attempt number, ... of the rows claimed.
 */
export const ROW_DUE: RedisScript = {
  name: 'iamWatcherRowDue',
  lua: `${NOW}
local idx, token, lease, most = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', idx, '-inf', now, 'LIMIT', 0, most)
local out = {}
for _, id in ipairs(due) do
  local ck, rk = ARGV[4] .. id, ARGV[5] .. id
  local r = redis.call('HMGET', rk, 'a', 'n')
  if (tonumber(r[2]) or 0) <= now and redis.call('SET', ck, token, 'NX', 'PX', lease) then
    redis.call('ZADD', idx, now + tonumber(lease), id)
    out[#out + 1] = id
    out[#out + 1] = (tonumber(r[1]) or 0) + 1
  end
end
return out
`,
};

/**
 * ROW_CLAIMABLE: which rows a claim would take now (read only).
 *
 * KEYS per row (2): its claim key, its retry record key.
 * Reply per row: `1` = claimable, `0` = held or waiting for its retry time.
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
