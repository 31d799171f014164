/**
 * The scripts of status watchers' row claims. Every script of one watcher touches keys of one hash
 * slot (`rows:{<watcher>}:`). KEYS[1] is always the watcher's attention index: a sorted set of row
 * ids scored by the time a row needs a look (a claim's expiry, a retry's time), so that rows left by a
 * dead replica or due for a retry are found without a scan of the table (ROW_DUE).
 *
 * The row keys are built inside the scripts from their prefixes (ARGV) and the row ids: a batch of
 * 100 rows then costs 100 short arguments instead of 200 full key names to encode and send. Every row
 * key carries the index's hash tag (`{<watcher>}`), so it lies in the slot of KEYS[1], which is what
 * Redis Cluster requires of a key a script touches without declaring it.
 */
import type { RedisScript } from '../batcher.js';

/** The server's clock in ms, and the index's life after the last write (7 days). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function touch(idx) redis.call('PEXPIRE', idx, 604800000) end
`;

/**
 * `keep(k, token, ms)`: the claim `k` is the holder's for `ms` from now: its own claim is extended,
 * an expired (or forgotten) one that nobody took is taken again. False when another holder has it.
 */
const KEEP = `
local function keep(k, token, ms)
  local v = redis.call('GET', k)
  if v == token then
    redis.call('PEXPIRE', k, ms)
    return true
  end
  if v then return false end
  redis.call('SET', k, token, 'PX', ms)
  return true
end
`;

/**
 * `many(cmd, key, list)`: one command for a whole list (ZADD of score/member pairs, ZREM, DEL of
 * keys with `key` nil), in pieces of 1000 (Lua's C stack bounds `unpack`; a piece keeps pairs whole).
 */
const MANY = `
local function many(cmd, key, list)
  for i = 1, #list, 1000 do
    local j = math.min(i + 999, #list)
    if key then redis.call(cmd, key, unpack(list, i, j)) else redis.call(cmd, unpack(list, i, j)) end
  end
end
`;

/**
 * ROW_CLAIM: claims a batch of rows for one holder, skipping rows another holder has and rows whose
 * retry time (by the server's clock) has not come.
 *
 * KEYS (1): the index.
 * ARGV: token, lease ms, claim key prefix, retry key prefix (a hash: `a` attempts, `n` next try ms),
 * then the row ids.
 * Reply per row: `0` = not claimed, else the attempt number this claim is (attempts so far + 1).
 */
export const ROW_CLAIM: RedisScript = {
  name: 'iamWatcherRowClaim3',
  lua: `${NOW}${MANY}
local idx, token, lease, cp, rp = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local expiry = now + tonumber(lease)
local out, indexed = {}, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local reply = 0
  local r = redis.call('HMGET', rp .. id, 'a', 'n')
  if (tonumber(r[2]) or 0) <= now and redis.call('SET', cp .. id, token, 'NX', 'PX', lease) then
    reply = (tonumber(r[1]) or 0) + 1
    indexed[#indexed + 1] = expiry
    indexed[#indexed + 1] = id
  end
  out[i - 4] = reply
end
many('ZADD', idx, indexed)
touch(idx)
return out
`,
};

/**
 * ROW_EXTEND: gives each claim of the holder a full lease again; a claim that expired (or that a
 * restarted server forgot) and that nobody took is taken again, so a replica that still has the row
 * in hand can finish it.
 *
 * KEYS (1): the index.
 * ARGV: token, lease ms, claim key prefix, then the row ids.
 * Reply per row: `1` = held by the caller now, `0` = held by another.
 */
export const ROW_EXTEND: RedisScript = {
  name: 'iamWatcherRowExtend3',
  lua: `${NOW}${MANY}${KEEP}
local idx, token, lease, cp = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local expiry = now + tonumber(lease)
local out, indexed = {}, {}
for i = 4, #ARGV do
  local reply = 0
  if keep(cp .. ARGV[i], token, lease) then
    reply = 1
    indexed[#indexed + 1] = expiry
    indexed[#indexed + 1] = ARGV[i]
  end
  out[i - 3] = reply
end
many('ZADD', idx, indexed)
touch(idx)
return out
`,
};

/**
 * ROW_SETTLE: the rows' handlers are done and their final UPDATE comes next: checks that each claim
 * is still the holder's (or expired and free, then taken again), and keeps it for hold ms as the
 * row's tombstone: no replica can claim the row while a read of it from before the UPDATE may still
 * be in flight. Its attempt record goes, and its index entry moves to the tombstone's end: should the
 * holder die before its UPDATE, another replica finds the row then (ROW_DUE); after the UPDATE the
 * holder takes the entry out (a plain ZREM, not waited for).
 *
 * KEYS (1): the index.
 * ARGV: token, hold ms, claim key prefix, retry key prefix, then the row ids.
 * Reply per row: `1` = the caller's (write its final status), `0` = another holder has it now.
 */
export const ROW_SETTLE: RedisScript = {
  name: 'iamWatcherRowSettle',
  lua: `${NOW}${MANY}${KEEP}
local idx, token, hold, cp, rp = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local expiry = now + tonumber(hold)
local out, indexed, records = {}, {}, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local reply = 0
  if keep(cp .. id, token, hold) then
    reply = 1
    indexed[#indexed + 1] = expiry
    indexed[#indexed + 1] = id
    records[#records + 1] = rp .. id
  end
  out[i - 4] = reply
end
many('ZADD', idx, indexed)
touch(idx)
many('DEL', nil, records)
return out
`,
};

/**
 * ROW_RELEASE: gives the holder's claims back (deletes them) and takes the rows out of the index;
 * their attempt records stay (a shutdown is no attempt).
 *
 * KEYS (1): the index.
 * ARGV: token, claim key prefix, then the row ids.
 * Reply: the number of claims given back.
 */
export const ROW_RELEASE: RedisScript = {
  name: 'iamWatcherRowRelease3',
  lua: `
local idx, token, cp = KEYS[1], ARGV[1], ARGV[2]
local n = 0
for i = 3, #ARGV do
  local k = cp .. ARGV[i]
  if redis.call('GET', k) == token then
    redis.call('DEL', k)
    redis.call('ZREM', idx, ARGV[i])
    n = n + 1
  end
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
 * KEYS (1): the index (for the hash slot).
 * ARGV: claim key prefix, retry key prefix, then the row ids.
 * Reply per row: `1` = claimable, `0` = held or waiting for its retry time.
 */
export const ROW_CLAIMABLE: RedisScript = {
  name: 'iamWatcherRowClaimable2',
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cp, rp = ARGV[1], ARGV[2]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local free = redis.call('EXISTS', cp .. id) == 0 and (tonumber(redis.call('HGET', rp .. id, 'n')) or 0) <= now
  out[i - 2] = free and 1 or 0
end
return out
`,
};
