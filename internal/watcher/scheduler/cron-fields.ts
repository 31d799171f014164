/**
 * A strict check of the cron grammar this daemon documents, field by field, so that a bad spec is
 * refused with a message naming the field and the value (croner's own messages are terser and it
 * accepts extensions such as `L`, `W` and `#` that the daemon does not promise).
 */

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The first value that `names[0]` stands for. */
  readonly namesFrom?: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: FieldRule = { name: 'second', min: 0, max: 59 };
const FIVE_FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  // 7 is Sunday too, as in crontab(5).
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

/** The crontab descriptors, mapped to their 5-field meaning. */
export const CRON_DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * Returns the spec as 6 fields (seconds first) with descriptors expanded, or a problem message.
 * Accepts 5 fields (minute first) or 6 (second first), `*`, `?` (day fields), `a`, `a-b`, steps
 * (`* /n`, `a-b/n`, `a/n`), lists, and month and weekday names (case-insensitive).
 */
export function normalizeCron(spec: string): { fields: string } | { problem: string } {
  const text = spec.trim();
  if (text.startsWith('@')) {
    const expanded = CRON_DESCRIPTORS[text.toLowerCase()];
    if (expanded === undefined) {
      return {
        problem:
          `unknown descriptor "${text}" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, ` +
          '@hourly or @every <duration>)',
      };
    }
    return { fields: `0 ${expanded}` };
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return {
      problem:
        `cron spec needs 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), ` +
        `got ${parts.length}`,
    };
  }
  const rules = parts.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  const normalized: string[] = [];
  for (const [i, rule] of rules.entries()) {
    const part = parts[i] as string;
    const problem = checkField(part, rule);
    if (problem !== undefined) return { problem: `${rule.name} field "${part}": ${problem}` };
    normalized.push(
      part
        .split(',')
        .map((item) => normalizeItem(item, rule))
        .join(','),
    );
  }
  if (parts.length === 5) normalized.unshift('0');
  return { fields: normalized.join(' ') };
}

/** `?` means `*`; `a/n` means `a-max/n` (croner reads both differently unless told otherwise). */
function normalizeItem(item: string, rule: FieldRule): string {
  if (item === '?') return '*';
  const [range, step] = item.split('/');
  if (step !== undefined && range !== undefined && range !== '*' && !range.includes('-')) {
    // Day-of-week 7 is Sunday again; a step from a start stops at Saturday.
    return `${range}-${rule.name === 'day-of-week' ? 6 : rule.max}/${step}`;
  }
  return item;
}

function checkField(field: string, rule: FieldRule): string | undefined {
  if (field === '') return 'empty';
  for (const item of field.split(',')) {
    const problem = checkItem(item, rule);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkItem(item: string, rule: FieldRule): string | undefined {
  if (item === '') return 'empty list element';
  const [range, step, extra] = item.split('/');
  if (extra !== undefined) return `"${item}" has more than one "/"`;
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) === 0) return `step "${step}" must be a whole number above 0`;
    if (Number(step) > rule.max - rule.min + 1) return `step ${step} is larger than the field's range`;
  }
  if (range === undefined || range === '') return `"${item}" has no value before "/"`;
  if (range === '*') return undefined;
  if (range === '?') {
    return rule.name.startsWith('day-') && step === undefined
      ? undefined
      : '"?" is only allowed alone in day-of-month or day-of-week';
  }
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${range}" is not a range (use a-b)`;
  const values: number[] = [];
  for (const b of bounds) {
    const v = valueOf(b, rule);
    if (typeof v === 'string') return v;
    values.push(v);
  }
  const [lo, hi] = values as [number, number | undefined];
  if (hi !== undefined && lo > hi) return `range ${range} runs backwards (${lo} > ${hi})`;
  return undefined;
}

function valueOf(text: string, rule: FieldRule): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < rule.min || n > rule.max) return `value ${n} is out of range ${rule.min}-${rule.max}`;
    return n;
  }
  const idx = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  if (idx >= 0) return idx + (rule.namesFrom ?? 0);
  const hint = rule.names ? ` or a name (${(rule.names[0] ?? '').toLowerCase()}...)` : '';
  return `"${text}" is not a number ${rule.min}-${rule.max}${hint}`;
}
