/**
 * RELEASE: deletes a key if it still holds the caller's token (a lease, or a claim given back), and
 * stores a record beside it (a run's last-run record), item by item. A release without a record names
 * the key twice; a record alone comes with no token.
 *
 * KEYS per item (2): the key to release, the record key.
 * ARGV per item (2): token (`''` = delete nothing), record (`''` = store nothing).
 * Reply per item: `1` = the key was deleted, `0` = it was not (not ours, gone, or no token).
 */
import type { RedisScript } from '../batcher.js';

export const RELEASE: RedisScript = {
  name: 'iamWatcherRelease',
  lua: `
local out = {}
for i = 0, #KEYS / 2 - 1 do
  local key, recordKey = KEYS[i * 2 + 1], KEYS[i * 2 + 2]
  local token, record = ARGV[i * 2 + 1], ARGV[i * 2 + 2]
  local reply = 0
  if token ~= '' and redis.call('GET', key) == token then
    redis.call('DEL', key)
    reply = 1
  end
  if record ~= '' then redis.call('SET', recordKey, record) end
  out[i + 1] = reply
end
return out
`,
};
