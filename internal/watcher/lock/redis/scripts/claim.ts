/**
 * CLAIM: claims a slot and takes its lease under one token, item by item; with a claim retention of
 * `0` it takes the lease alone (a manual run, a waiting slot, a retried lease). A slot claimed here
 * is never left without an answer about its lease: taken, or held by another run (overlap).
 *
 * KEYS per item (3): slot key, lease key, holder key.
 * ARGV per item (4): token, claim retention ms (`0` = take the lease only), lease ms, holder record
 *   (`''` = none; written only when the lease was taken).
 * Reply per item: `1` = claimed (when asked) and leased; `2` = claimed, but the lease holds another
 *   token; otherwise the value that already holds the slot (the lease, when no claim was asked), so
 *   that a quorum caller can tell a split vote from a lost one.
 */
import type { RedisScript } from '../batcher.js';
import { withPackedItems } from './packed.js';

export const CLAIM: RedisScript = {
  name: 'iamWatcherClaim',
  lua: withPackedItems(`
local out = {}
for i = 0, #KEYS / 3 - 1 do
  local slot, lease, holder = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local token, retainMs, leaseMs, record = ARGV[i * 4 + 1], ARGV[i * 4 + 2], ARGV[i * 4 + 3], ARGV[i * 4 + 4]
  local claim = retainMs ~= '0'
  local reply = 1
  if claim and not redis.call('SET', slot, token, 'PX', retainMs, 'NX') then
    reply = redis.call('GET', slot) or ''
  elseif redis.call('SET', lease, token, 'PX', leaseMs, 'NX') then
    if record ~= '' then redis.call('SET', holder, record) end
  elseif claim then
    reply = 2
  else
    reply = redis.call('GET', lease) or ''
  end
  out[i + 1] = reply
end
return out
`),
};
