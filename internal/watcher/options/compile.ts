/**
 * Turns raw values from every source into the frozen {@link Config}: each raw value is checked by
 * its field, the highest-precedence source wins (flag > env > file > default), and each watcher's
 * schedule is checked with its mode and time zone.
 */
import type { Config, ScheduleMode } from '../config.js';
import { FieldError, type Field } from './fields.js';
import type { KeyIndex } from './key-index.js';
import { Secrets } from '../../pkg/censor/censor.js';
import type { Problems } from './problems.js';
import type { RawValue } from './raw-value.js';
import { writeProp, type ConfigKey } from './schema.js';

/** Checks a watcher's schedule; returns a problem message or undefined. */
export type ScheduleCheck = (
  spec: string,
  mode: ScheduleMode,
  timeZone: string | undefined,
) => string | undefined;

/** What compiling needs besides the raw values. */
export interface CompileInput {
  readonly index: KeyIndex;
  /** Raw values in increasing precedence: file, then env, then flags. */
  readonly values: readonly RawValue[];
  readonly configFile: string | undefined;
  readonly hostname: string;
  readonly pid: number;
  readonly checkSchedule: ScheduleCheck;
}

interface Resolved {
  readonly value: unknown;
  readonly where: string | undefined;
}

/** Compiles the config, or returns undefined after adding problems. */
export function compile(input: CompileInput, problems: Problems): Config | undefined {
  const resolved = new Map<string, Resolved>();
  const failed = new Set<string>();
  for (const k of input.index.keys) resolved.set(k.key, { value: k.field.default, where: undefined });
  for (const v of input.values) {
    const key = input.index.byKey.get(v.key);
    if (!key) continue;
    const r = parseValue(key, v, problems);
    if (r === undefined) failed.add(v.key);
    else resolved.set(v.key, { value: r.value, where: v.where });
  }
  checkSchedules(input, resolved, failed, problems);
  checkMySQLTls(resolved, problems);
  if (!problems.empty) return undefined;
  return deepFreeze(build(input, resolved));
}

function parseValue(key: ConfigKey, v: RawValue, problems: Problems): { value: unknown } | undefined {
  try {
    return { value: key.field.parse(v.raw, v.source) };
  } catch (err) {
    problems.add(key.key, fieldMessage(key.field, err, v.raw), v.where);
    return undefined;
  }
}

function fieldMessage(field: Field<unknown>, err: unknown, raw: unknown): string {
  const text =
    err instanceof FieldError
      ? err.message
      : `cannot be read (${err instanceof Error ? err.message : 'unknown error'})`;
  // A check may quote the value it rejects; a secret's must never reach a terminal or a log.
  return field.secret && typeof raw === 'string' ? new Secrets([raw]).censor(text) : text;
}

function checkSchedules(
  input: CompileInput,
  resolved: ReadonlyMap<string, Resolved>,
  failed: ReadonlySet<string>,
  problems: Problems,
): void {
  for (const name of input.index.watcherNames) {
    const k = (leaf: string): string => `watcher.${name}.${leaf}`;
    if ([k('schedule'), k('mode'), k('time-zone')].some((key) => failed.has(key))) continue;
    const schedule = resolved.get(k('schedule'));
    const mode = resolved.get(k('mode'))?.value as ScheduleMode;
    const timeZone = resolved.get(k('time-zone'))?.value as string;
    if (!schedule) continue;
    const problem = safeCheck(input.checkSchedule, schedule.value as string, mode, timeZone || undefined);
    if (problem !== undefined) problems.add(k('schedule'), problem, schedule.where);
  }
}

/** `mysql.tls.*` keys that only make sense together: never connect in plain text by accident. */
function checkMySQLTls(resolved: ReadonlyMap<string, Resolved>, problems: Problems): void {
  const get = (leaf: string) => resolved.get(`mysql.tls.${leaf}`);
  if (get('enabled') === undefined) return;
  const enabled = get('enabled')?.value === true;
  for (const leaf of ['ca-file', 'cert-file', 'key-file', 'insecure-skip-verify']) {
    const r = get(leaf);
    if (!enabled && r !== undefined && r.value !== '' && r.value !== false) {
      problems.add(
        `mysql.tls.${leaf}`,
        'is set but mysql.tls.enabled is false (set it to true to use TLS)',
        r.where,
      );
    }
  }
  const cert = get('cert-file');
  const key = get('key-file');
  if (enabled && (cert?.value === '') !== (key?.value === '')) {
    const [has, missing] = cert?.value === '' ? ['key-file', 'cert-file'] : ['cert-file', 'key-file'];
    problems.add(`mysql.tls.${missing}`, `must be set together with mysql.tls.${has}`, get(has)?.where);
  }
}

function safeCheck(
  check: ScheduleCheck,
  spec: string,
  mode: ScheduleMode,
  timeZone: string | undefined,
): string | undefined {
  try {
    return check(spec, mode, timeZone);
  } catch (err) {
    return `cannot be scheduled: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function build(input: CompileInput, resolved: ReadonlyMap<string, Resolved>): Config {
  const root: Record<string, unknown> = { configFile: input.configFile, watchers: {} };
  for (const name of input.index.watcherNames) {
    // A status watcher has no scheduling keys: these stay as written here (its slots are unused).
    writeProp(root, ['watchers', name], {
      name,
      options: {},
      schedule: '',
      mode: 'fixed-rate',
      overlap: 'skip',
      catchUpMs: 0,
      timeZone: '',
    });
  }
  for (const k of input.index.keys) writeProp(root, k.prop, resolved.get(k.key)?.value);
  const config = root as unknown as Config & Record<string, unknown>;
  if (config.instanceId === '') root.instanceId = `${input.hostname}-${input.pid}`;
  for (const w of Object.values(config.watchers)) {
    if (w.timeZone === '') (w as { timeZone: string | undefined }).timeZone = undefined;
  }
  return config;
}

/** Freezes an object and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
