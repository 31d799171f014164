/**
 * RELEASE: deletes a key if it still holds the caller's token (a lease, or a claim given back), and
 * stores a record beside it (a run's last-run record), item by item. A release without a record names
 * the key again in every other place; a record alone comes with no token. The record of an ok run is
 * also stored as the watcher's last success (cluster-wide, for the staleness alert): its item names
 * the last-success key third; any other item names the record key again there. A run's record is
 * also pushed onto the watcher's history list (newest first, trimmed to a length, expiring a while
 * after the last push), named fourth.
 *
 * KEYS per item (4): the key to release, the record key, the last-success key (or the record key),
 *   the history key (or the record key).
 * ARGV per item (5): token (`''` = delete nothing), record (`''` = store nothing), history entry
 *   (`''` = none, `=` = the record itself), history length, history expiry ms.
 * Reply per item: `1` = the key was deleted, `0` = it was not (not ours, gone, or no token).
 */
import type { RedisScript } from '../batcher.js';

export const RELEASE: RedisScript = {
  name: 'iamWatcherRelease',
  lua: `
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local key, recordKey, successKey, historyKey = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
  local token, record, entry = ARGV[i * 5 + 1], ARGV[i * 5 + 2], ARGV[i * 5 + 3]
  local reply = 0
  if token ~= '' and redis.call('GET', key) == token then
    redis.call('DEL', key)
    reply = 1
  end
  if record ~= '' then
    redis.call('SET', recordKey, record)
    if successKey ~= recordKey then redis.call('SET', successKey, record) end
  end
  if entry ~= '' then
    if entry == '=' then entry = record end
    redis.call('LPUSH', historyKey, entry)
    redis.call('LTRIM', historyKey, 0, tonumber(ARGV[i * 5 + 4]) - 1)
    redis.call('PEXPIRE', historyKey, ARGV[i * 5 + 5])
  end
  out[i + 1] = reply
end
return out
`,
};
