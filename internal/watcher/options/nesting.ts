/**
 * A cheap upper bound on how deeply a YAML text nests, measured before the YAML parser sees it. The
 * parser recurses once per level; a few thousand levels (a 1 MiB file can hold hundreds of thousands)
 * exhaust the stack, and near the limit V8 can abort the whole process instead of throwing. A config
 * file nests four levels deep, so anything past {@link MAX_NESTING} is refused outright.
 */

/** Levels of nesting (block indentation plus flow brackets) a config file may use. */
export const MAX_NESTING = 64;

/** True when `text` nests deeper than {@link MAX_NESTING}. */
export function nestsTooDeeply(text: string): boolean {
  const indents: number[] = [];
  let flow = 0;
  for (const line of text.split('\n')) {
    const indent = /^[ \t-]*/.exec(line)?.[0].length ?? 0;
    const rest = line.slice(indent);
    if (flow === 0 && rest.trim() !== '' && !rest.startsWith('#')) {
      while (indents.length > 0 && (indents[indents.length - 1] ?? 0) >= indent) indents.pop();
      indents.push(indent);
      // Each "- " of a compact sequence ("- - - x") is a level of its own.
      const dashes = (line.slice(0, indent).match(/-/g) ?? []).length;
      if (indents.length + dashes > MAX_NESTING) return true;
    }
    flow = flowDepthAfter(rest, flow, MAX_NESTING - indents.length);
    if (flow < 0) return true;
  }
  return false;
}

/** Bracket depth at the end of `line`, starting from `depth`; -1 once it exceeds `limit`. */
function flowDepthAfter(line: string, depth: number, limit: number): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && startsScalar(line, i)) {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ')) {
      break;
    } else if (c === '[' || c === '{') {
      if (++depth > limit) return -1;
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    }
  }
  return depth;
}

/** A quote opens a quoted scalar only where a value may start; `don't` is a plain scalar. */
function startsScalar(line: string, i: number): boolean {
  const before = line.slice(0, i).trimEnd();
  return before === '' || /[[{,:?-]$/.test(before);
}
