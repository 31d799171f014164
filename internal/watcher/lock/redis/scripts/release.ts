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
 * ARGV per item (3): token (`''` = delete nothing), record (`''` = store nothing), history push
 *   (see {@link historyPushArg}: `''` = none).
 * Reply per item: `1` = the key was deleted, `0` = it was not (not ours, gone, or no token).
 */
import type { RedisScript } from '../batcher.js';
import { withPackedItems } from './packed.js';

/** History entries kept when the push names no length (`history.size`'s default). */
export const DEFAULT_HISTORY_SIZE = 100;
/** History list expiry when the push names none (`history.max-age`'s default: 4 weeks). */
export const DEFAULT_HISTORY_TTL_MS = 28 * 24 * 3600 * 1000;

/**
 * The history argument of an item: `=` pushes the item's record, anything else is the entry itself;
 * prefixed with `<length>:<expiry ms>:` unless both are the defaults. One argument, built once per
 * watcher for the usual push: a thousand runs a second send it.
 */
export function historyPushArg(size: number, ttlMs: number, entry = '='): string {
  const bounds = size === DEFAULT_HISTORY_SIZE && ttlMs === DEFAULT_HISTORY_TTL_MS ? '' : `${size}:${ttlMs}:`;
  return bounds + entry;
}

export const RELEASE: RedisScript = {
  name: 'iamWatcherRelease',
  lua: withPackedItems(`
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local key, recordKey, successKey, historyKey = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
  local token, record, push = ARGV[i * 3 + 1], ARGV[i * 3 + 2], ARGV[i * 3 + 3]
  local reply = 0
  if token ~= '' and redis.call('GET', key) == token then
    redis.call('DEL', key)
    reply = 1
  end
  if record ~= '' then
    redis.call('SET', recordKey, record)
    if successKey ~= recordKey then redis.call('SET', successKey, record) end
  end
  if push ~= '' then
    local size, ttl, entry = ${DEFAULT_HISTORY_SIZE}, ${DEFAULT_HISTORY_TTL_MS}, push
    local n, t, rest = string.match(push, '^(%d+):(%d+):(.*)$')
    if n then size, ttl, entry = tonumber(n), t, rest end
    if entry == '=' then entry = record end
    redis.call('LPUSH', historyKey, entry)
    redis.call('LTRIM', historyKey, 0, size - 1)
    redis.call('PEXPIRE', historyKey, ttl)
  end
  out[i + 1] = reply
end
return out
`),
};
