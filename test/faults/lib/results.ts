/**
 * Rows of the fault table. Each test file records its rows in a part file of its own
 * (`$TMPDIR/iamw-faults-results/<file>.json`, as files may run in separate processes), then the whole table
 * is rebuilt from every part: printed, and written to `test/faults/results.json`.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAULTS_DIR = fileURLToPath(new URL('..', import.meta.url));
export const PARTS_DIR = process.env.FAULTS_PARTS_DIR ?? join(tmpdir(), 'iamw-faults-results');
export const RESULTS_FILE = process.env.FAULTS_RESULTS_FILE ?? join(FAULTS_DIR, 'results.json');

/** One fault and what was checked. Counts are null where they do not apply. */
export interface FaultRow {
  readonly fault: string;
  readonly checked: string;
  readonly slotsExpected: number | null;
  readonly slotsRun: number | null;
  readonly doubled: number | null;
  readonly missed: number | null;
  readonly rowsChecked: number | null;
  readonly pass: boolean;
  /** Figures and, for a failing row, the reason. */
  readonly notes: string;
}

const parts = new Map<string, FaultRow[]>();

/** Records a row for `file` (the test file's `import.meta.url`) and rewrites the table files. */
export function recordRow(fileUrl: string, row: FaultRow): void {
  const part = basename(fileURLToPath(fileUrl)).replace(/\.test\.ts$/, '');
  const rows = parts.get(part) ?? [];
  const at = rows.findIndex((r) => r.fault === row.fault);
  if (at >= 0) rows[at] = row;
  else rows.push(row);
  parts.set(part, rows);
  mkdirSync(PARTS_DIR, { recursive: true });
  writeFileSync(join(PARTS_DIR, `${part}.json`), JSON.stringify(rows, null, 2) + '\n');
  writeResults();
}

/** Every row of every part file, in file order. */
/** The fault files in the order they run and their rows are printed; others come after. */
const FAULT_ORDER = [
  'bad-input',
  'restart',
  'redis-outage',
  'mariadb-outage',
  'clock-jump',
  'loop-stall',
  'soak',
  'status-watchers',
];

/** Where a fault file (`x.test.ts`) or its results part (`x.json`) comes in {@link FAULT_ORDER}. */
export function faultRank(file: string): number {
  const i = FAULT_ORDER.indexOf(file.replace(/\.(test\.ts|json)$/, ''));
  return i < 0 ? FAULT_ORDER.length : i;
}

export function allRows(): FaultRow[] {
  let files: string[];
  try {
    files = readdirSync(PARTS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  files.sort((a, b) => faultRank(a) - faultRank(b) || a.localeCompare(b));
  return files.flatMap((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as FaultRow[]);
}

/** Writes `results.json` from every part file. */
export function writeResults(): void {
  const rows = allRows();
  const out = {
    profile: process.env.FAULTS_PROFILE === 'ci' ? 'ci' : 'full',
    generatedAt: new Date().toISOString(),
    passed: rows.filter((r) => r.pass).length,
    failed: rows.filter((r) => !r.pass).length,
    rows,
  };
  writeFileSync(RESULTS_FILE, JSON.stringify(out, null, 2) + '\n');
}

function cell(v: number | null): string {
  return v === null ? '-' : String(v);
}

/** The table as text, one line per row. */
export function renderTable(rows: readonly FaultRow[]): string {
  const head = ['fault', 'checked', 'expected', 'run', 'doubled', 'missed', 'rows', 'result'];
  const body = rows.map((r) => [
    r.fault,
    r.checked,
    cell(r.slotsExpected),
    cell(r.slotsRun),
    cell(r.doubled),
    cell(r.missed),
    cell(r.rowsChecked),
    r.pass ? 'pass' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ');
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-');
  const notes = rows
    .filter((r) => r.notes !== '')
    .map((r) => `  ${r.pass ? '' : 'FAIL '}${r.fault}: ${r.notes}`);
  return [line(head), sep, ...body.map(line), '', 'notes:', ...notes].join('\n');
}
