/**
 * The coordinator's Lua scripts. Each takes a list of items (a fixed number of keys and arguments per
 * item) so that everything one server is asked within one event-loop turn travels as one `EVALSHA`:
 * 1000 watchers due at the same second cost one command, not 4000. In Redis Cluster mode an item's
 * keys share the watcher's hash tag and every call carries exactly one item.
 */

/** Keys and arguments per item of {@link CLAIM_LEASE}. */
export const CLAIM_KEYS = 3;
export const CLAIM_ARGS = 5;

/**
 * Claims a slot and takes a lease in one step, per item.
 * KEYS: slot key, lease key, holder key. ARGV: claim value ('' = take the lease only), claim
 * retention ms, lease token ('' = claim only), lease ms, holder record ('' = do not write one).
 * Reply per item: 1 = claimed (if asked) and leased (if asked); 2 = claimed, but the lease is held
 * by another token; otherwise the string value that already holds the slot (or the lease, when no
 * claim was asked), so that a quorum caller can tell a split vote from a lost one.
 */
export const CLAIM_LEASE = `
local out = {}
for i = 0, #KEYS / ${CLAIM_KEYS} - 1 do
  local k, a = i * ${CLAIM_KEYS}, i * ${CLAIM_ARGS}
  local r = 1
  if ARGV[a + 1] ~= '' and not redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'PX', ARGV[a + 2], 'NX') then
    r = redis.call('GET', KEYS[k + 1]) or ''
  elseif ARGV[a + 3] ~= '' then
    if redis.call('SET', KEYS[k + 2], ARGV[a + 3], 'PX', ARGV[a + 4], 'NX') then
      if ARGV[a + 5] ~= '' then redis.call('SET', KEYS[k + 3], ARGV[a + 5]) end
    elseif ARGV[a + 1] ~= '' then
      r = 2
    else
      r = redis.call('GET', KEYS[k + 2]) or ''
    end
  end
  out[i + 1] = r
end
return out
`;

/** Keys and arguments per item of {@link KEY_OPS}. */
export const OP_KEYS = 1;
export const OP_ARGS = 3;

/**
 * Small writes, per item. KEYS: the key. ARGV: op, value, ms.
 * - `d`: delete the key if it holds `value` (release a lease or a partial claim);
 * - `x`: set the key's TTL to `ms` if it holds `value` (extend a lease);
 * - `s`: set the key to `value` (a last-run record).
 * Reply per item: 1 = done, 0 = the key did not hold `value`.
 */
export const KEY_OPS = `
local out = {}
for i = 0, #KEYS - 1 do
  local key, a = KEYS[i + 1], i * ${OP_ARGS}
  local op, v = ARGV[a + 1], ARGV[a + 2]
  local r = 0
  if op == 's' then
    redis.call('SET', key, v)
    r = 1
  elseif redis.call('GET', key) == v then
    if op == 'd' then redis.call('DEL', key) else redis.call('PEXPIRE', key, ARGV[a + 3]) end
    r = 1
  end
  out[i + 1] = r
end
return out
`;

/** Compare-and-set of the fixed-delay chain: ARGV[1] the expected value ('' = none), ARGV[2] the new. */
export const ADVANCE_CHAIN = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/**
 * The common case of {@link CLAIM_LEASE} in fewer arguments: claim a slot and take the watcher's
 * "running" lease under the same token, per item. ARGV[1]: lease ms, for every item. KEYS per item:
 * slot key, lease key. ARGV per item: token, claim retention ms. Reply per item as CLAIM_LEASE's.
 */
export const CLAIM_RUNNING = `
local out = {}
local leaseMs = ARGV[1]
for i = 0, #KEYS / 2 - 1 do
  local k, a = i * 2, 1 + i * 2
  local r = 1
  if not redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'PX', ARGV[a + 2], 'NX') then
    r = redis.call('GET', KEYS[k + 1]) or ''
  elseif not redis.call('SET', KEYS[k + 2], ARGV[a + 1], 'PX', leaseMs, 'NX') then
    r = 2
  end
  out[i + 1] = r
end
return out
`;

/**
 * The end of a run, per item: delete its lease if the key still holds its token ('' = leave the
 * lease alone), and store its last-run record. KEYS per item: lease key, last-run key. ARGV per
 * item: token, record. Reply: the number of items.
 */
export const FINISH_RUN = `
for i = 0, #KEYS / 2 - 1 do
  local k = i * 2
  if ARGV[k + 1] ~= '' and redis.call('GET', KEYS[k + 1]) == ARGV[k + 1] then
    redis.call('DEL', KEYS[k + 1])
  end
  redis.call('SET', KEYS[k + 2], ARGV[k + 2])
end
return #KEYS / 2
`;
