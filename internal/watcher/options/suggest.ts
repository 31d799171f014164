/**
 * "Did you mean ...?" for unknown keys, flags and environment variables.
 */

/** Levenshtein distance (insertions, deletions, substitutions), two rows of memory. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: at most a third of
 * the word's length (and at least 2) edits away. Ties go to the earlier candidate.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Suggests a known dotted key path for an unknown one. A known path with the same leaf that differs in
 * one segment is preferred (the Go original's `watcher.counter.max-reserve-days` finds
 * `watcher.clean.max-reserve-days`, however far "counter" is from "clean"); otherwise the nearest path.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const parts = unknown.split('.');
  const oneOff = known.filter((k) => differsInOneSegment(parts, k.split('.')));
  if (oneOff.length === 1) return oneOff[0];
  if (oneOff.length > 1) {
    return [...oneOff].sort((a, b) => editDistance(unknown, a) - editDistance(unknown, b))[0];
  }
  return nearest(unknown, known);
}

function differsInOneSegment(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length < 2 || a[a.length - 1] !== b[b.length - 1]) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  return diff === 1;
}

/** `"; did you mean X?"` or `""`. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
}
