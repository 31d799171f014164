/**
 * ISO 8601 (UTC) of an instant, as slot keys and log lines show it. The last instant formatted is
 * kept: the watchers due together share their slot time, and each of them formats it for its claim
 * key and for its log lines.
 */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}

let lastMs = Number.NaN;
let lastText = '';
