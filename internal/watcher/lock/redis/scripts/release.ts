/**
 * RELEASE: deletes a key if it still holds the caller's token (a lease, or a claim given back), and
 * stores a record beside it (a run's last-run record), item by item. A release without a record names
 * the key twice; a record alone comes with no token. The record of an ok run is also stored as the
 * watcher's last success (cluster-wide, for the staleness alert): its item names the last-success
 * key third; any other item names the record key again there.
 *
 * KEYS per item (3): the key to release, the record key, the last-success key (or the record key).
 * ARGV per item (2): token (`''` = delete nothing), record (`''` = store nothing).
 * Reply per item: `1` = the key was deleted, `0` = it was not (not ours, gone, or no token).
 */
import type { RedisScript } from '../batcher.js';

export const RELEASE: RedisScript = {
  name: 'iamWatcherRelease',
  lua: `
local out = {}
for i = 0, #KEYS / 3 - 1 do
  local key, recordKey, successKey = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local token, record = ARGV[i * 2 + 1], ARGV[i * 2 + 2]
  local reply = 0
  if token ~= '' and redis.call('GET', key) == token then
    redis.call('DEL', key)
    reply = 1
  end
  if record ~= '' then
    redis.call('SET', recordKey, record)
    if successKey ~= recordKey then redis.call('SET', successKey, record) end
  end
  out[i + 1] = reply
end
return out
`,
};
