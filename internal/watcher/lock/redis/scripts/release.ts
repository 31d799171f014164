/**
 * RELEASE: deletes a key if it still holds the caller's token (a lease, or a claim given back), and
 * stores a record beside it (a run's last-run record), pushing the run onto the watcher's history
 * list (newest first, trimmed to a length, expiring a while after the last push), item by item. A
 * release without a record names the key twice; a record alone comes with no token.
 *
 * KEYS per item (3): the key to release, the record key, the history key.
 * ARGV per item (5): token (`''` = delete nothing), record (`''` = store nothing), history entry
 *   (`''` = none, `=` = the record itself), history length, history expiry ms.
 * Reply per item: `1` = the key was deleted, `0` = it was not (not ours, gone, or no token).
 */
import type { RedisScript } from '../batcher.js';

export const RELEASE: RedisScript = {
  name: 'iamWatcherRelease',
  lua: `
local out = {}
for i = 0, #KEYS / 3 - 1 do
  local key, recordKey, historyKey = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local token, record, entry = ARGV[i * 5 + 1], ARGV[i * 5 + 2], ARGV[i * 5 + 3]
  local reply = 0
  if token ~= '' and redis.call('GET', key) == token then
    redis.call('DEL', key)
    reply = 1
  end
  if record ~= '' then redis.call('SET', recordKey, record) end
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
