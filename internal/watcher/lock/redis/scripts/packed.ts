/**
 * Packed items: a batched script (CLAIM, RELEASE, EXTEND) takes its items either as Redis passes
 * them (KEYS, then ARGV, a fixed number of each per item) or packed into two arguments and no
 * declared key: every key joined by `ITEM_SEPARATOR` (batcher.ts), then every argument likewise. The
 * prelude below turns the packed form back into the two tables, so the script's body reads items
 * one way.
 *
 * Why: the client encodes each argument of a command on its own (a length, the text, two line ends,
 * a handful of intermediate strings each), so a hundred items of seven arguments cost seven hundred
 * such encodings per call; two long arguments cost two. A script that declares no key can only be
 * sent to a single server (standalone or behind Sentinel): against Redis Cluster the batcher sends
 * every item as its own call with its keys declared (see batcher.ts).
 */

import { ITEM_SEPARATOR } from '../batcher.js';

/**
 * The prelude: with no declared key, `KEYS` and `ARGV` are rebuilt (as locals shadowing Redis's
 * globals) from the packed ARGV[1] (keys) and ARGV[2] (arguments); empty fields are kept.
 */
const PRELUDE = `
local KEYS, ARGV = KEYS, ARGV
if #KEYS == 0 then
  local function split(s)
    local t, i, n = {}, 1, 0
    while true do
      local j = string.find(s, '\\${ITEM_SEPARATOR.charCodeAt(0)}', i, true)
      n = n + 1
      if not j then
        t[n] = string.sub(s, i)
        return t
      end
      t[n] = string.sub(s, i, j - 1)
      i = j + 1
    end
  end
  KEYS, ARGV = split(ARGV[1]), split(ARGV[2])
end
`;

/** A batched script's Lua with the packed-items prelude in front. */
export function withPackedItems(body: string): string {
  return PRELUDE + body;
}
