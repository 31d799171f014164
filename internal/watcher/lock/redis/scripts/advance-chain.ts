/**
 * ADVANCE_CHAIN: compare-and-set of a fixed-delay chain's end time; one call per chain (not batched).
 *
 * KEYS (1): the chain key.
 * ARGV (2): the end the caller followed (`''` = no chain yet), the new end (ms since the epoch).
 * Reply: `1` = set, `0` = the chain had moved (someone else set it first).
 */
import type { RedisScript } from '../batcher.js';

export const ADVANCE_CHAIN: RedisScript = {
  name: 'iamWatcherAdvanceChain',
  lua: `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`,
};
