/**
 * Field descriptors: one per configuration key. A field knows its type, default, documentation and
 * how to turn a raw value (a YAML value, or a string from the environment or a flag) into a checked,
 * typed value. The schema (`schema.ts`) is a tree of these; watchers declare their own extra fields
 * with the same constructors.
 */
import { DurationSyntaxError, formatDuration, parseDuration } from '../../pkg/duration/duration.js';
import type { HostPort } from '../../pkg/net/host-port.js';
import { FieldError } from '../errors.js';

/** Thrown by {@link Field.parse}, for fields a watcher writes itself. */
export { FieldError } from '../errors.js';

/** Where a raw value came from; env and flag values always arrive as strings. */
export type ValueSource = 'default' | 'file' | 'env' | 'flag';

export interface Field<T> {
  /** Type name for messages and docs: `integer`, `duration`, `boolean`, ... */
  readonly kind: string;
  readonly default: T;
  /** One sentence for `--help`, the config reference and `configs/iam-watcher.yaml`. */
  readonly doc: string;
  /** The same sentence in Chinese, for the zh-CN reference (README.zh-CN.md); a unit test requires it. */
  readonly docZh?: string;
  /** A secret is never printed: logs, errors, `validate` and `--help` show `***`. */
  readonly secret?: boolean;
  /** Placeholder for `--help` (`<days>`, `<duration>`). */
  readonly placeholder: string;
  /** Checks and converts a raw value. @throws FieldError naming the problem (never echoing a secret). */
  parse(raw: unknown, source: ValueSource): T;
  /** Renders a value as it would be written in YAML (`180000` ms -> `3m`). */
  format(value: T): string;
}

interface Common<T> {
  default: T;
  doc: string;
  docZh?: string;
}

function typeName(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  return `${typeof raw} ${JSON.stringify(raw)}`;
}

/** A string. `secret: true` keeps it out of every output. */
export function stringField(
  o: Common<string> & {
    secret?: boolean;
    allowEmpty?: boolean;
    maxLength?: number;
    check?: (v: string) => string | undefined;
  },
): Field<string> {
  const maxLength = o.maxLength ?? 4096;
  return {
    kind: 'string',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    secret: o.secret ?? false,
    placeholder: o.secret ? '<secret>' : '<string>',
    parse(raw) {
      let v: string;
      if (typeof raw === 'string') v = raw;
      else if (typeof raw === 'number' || typeof raw === 'boolean') v = String(raw);
      else throw new FieldError(`must be a string, got ${o.secret ? typeof raw : typeName(raw)}`);
      if (v.length > maxLength) throw new FieldError(`is longer than ${maxLength} characters`);
      if (!(o.allowEmpty ?? true) && v.trim() === '') throw new FieldError('must not be empty');
      const problem = o.check?.(v);
      if (problem) throw new FieldError(problem);
      return v;
    },
    format: (v) => (o.secret ? (v ? '***' : '') : v),
  };
}

/** An integer within [min, max]. Strings of digits are accepted (env, flags). */
export function intField(o: Common<number> & { min?: number; max?: number; unit?: string }): Field<number> {
  const min = o.min ?? Number.MIN_SAFE_INTEGER;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  return {
    kind: 'integer',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: `<${o.unit ?? 'n'}>`,
    parse(raw) {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(raw)) n = Number(raw);
      else throw new FieldError(`must be an integer, got ${typeName(raw)}`);
      if (!Number.isInteger(n)) throw new FieldError(`must be a whole number, got ${n}`);
      if (n < min || n > max) {
        throw new FieldError(
          n < 0 && min >= 0
            ? `must not be negative, got ${n}`
            : `must be between ${min} and ${max}, got ${n}`,
        );
      }
      return n;
    },
    format: (v) => String(v),
  };
}

/** A TCP port, 1..65535. */
export function portField(o: Common<number>): Field<number> {
  return { ...intField({ ...o, min: 1, max: 65535, unit: 'port' }), kind: 'port' };
}

/** A boolean: YAML true/false, or `true|false|1|0|yes|no` from env and flags. */
export function boolField(o: Common<boolean>): Field<boolean> {
  return {
    kind: 'boolean',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: '<bool>',
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const s = raw.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(s)) return true;
        if (['false', '0', 'no', 'off'].includes(s)) return false;
      }
      throw new FieldError(`must be true or false, got ${typeName(raw)}`);
    },
    format: (v) => String(v),
  };
}

/** A duration string (`500ms`, `30s`, `3m`, `1h`, `1d`), held as milliseconds. */
export function durationField(o: Common<number> & { minMs?: number; maxMs?: number }): Field<number> {
  return {
    kind: 'duration',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: '<duration>',
    parse(raw) {
      if (typeof raw === 'number' && raw === 0) return 0;
      if (typeof raw !== 'string') {
        throw new FieldError(`must be a duration string such as 30s, 3m or 1d, got ${typeName(raw)}`);
      }
      let ms: number;
      try {
        ms = parseDuration(raw);
      } catch (err) {
        if (err instanceof DurationSyntaxError) throw new FieldError(err.message);
        throw err;
      }
      if (o.minMs !== undefined && ms < o.minMs) {
        throw new FieldError(`must be at least ${formatDuration(o.minMs)}, got ${raw}`);
      }
      if (o.maxMs !== undefined && ms > o.maxMs) {
        throw new FieldError(`must be at most ${formatDuration(o.maxMs)}, got ${raw}`);
      }
      return ms;
    },
    format: (v) => formatDuration(v),
  };
}

/**
 * A duration that also takes a bare integer as seconds, as the Go original's integer timeouts
 * (`redis.timeout: 5` is 5 s); `0` means `zeroMeansMs` (the Go client's "use the default").
 */
export function secondsOrDurationField(
  o: Common<number> & { minMs?: number; maxMs?: number; zeroMeansMs: number },
): Field<number> {
  const duration = durationField(o);
  return {
    ...duration,
    kind: 'duration or seconds',
    placeholder: '<duration|seconds>',
    parse(raw, source) {
      const seconds =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)
            ? Number(raw)
            : NaN;
      if (Number.isNaN(seconds)) {
        if (typeof raw === 'number') throw new FieldError(`must be a whole number of seconds, got ${raw}`);
        return duration.parse(raw, source);
      }
      if (!Number.isSafeInteger(seconds) || seconds < 0) {
        throw new FieldError(`must be a whole number of seconds or a duration such as 5s, got ${seconds}`);
      }
      return seconds === 0 ? o.zeroMeansMs : duration.parse(`${seconds}s`, source);
    },
  };
}

/** One of a fixed set of strings. */
export function enumField<const V extends string>(o: Common<V> & { values: readonly V[] }): Field<V> {
  return {
    kind: `one of ${o.values.join(' | ')}`,
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: `<${o.values.join('|')}>`,
    parse(raw) {
      if (typeof raw === 'string' && (o.values as readonly string[]).includes(raw)) return raw as V;
      throw new FieldError(`must be one of ${o.values.join(', ')}, got ${typeName(raw)}`);
    },
    format: (v) => v,
  };
}

/** A list of strings; from env and flags, a comma-separated string. */
export function listField(
  o: Common<readonly string[]> & { check?: (v: string) => string | undefined; maxItems?: number },
): Field<readonly string[]> {
  const maxItems = o.maxItems ?? 10_000;
  return {
    kind: 'list of strings',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: '<a,b,...>',
    parse(raw) {
      let items: unknown[];
      if (typeof raw === 'string') items = raw === '' ? [] : raw.split(',').map((s) => s.trim());
      else if (Array.isArray(raw)) items = raw;
      else throw new FieldError(`must be a list of strings, got ${typeName(raw)}`);
      if (items.length > maxItems) throw new FieldError(`has more than ${maxItems} items`);
      return Object.freeze(
        items.map((item, i) => {
          if (typeof item !== 'string' && typeof item !== 'number') {
            throw new FieldError(`item ${i} must be a string, got ${typeName(item)}`);
          }
          const s = String(item);
          const problem = o.check?.(s);
          if (problem) throw new FieldError(`item ${i}: ${problem}`);
          return s;
        }),
      );
    },
    format: (v) => v.join(','),
  };
}

/** Parses `host:port`, IPv6 in brackets (`[::1]:5050`); returns a message on failure. */
export function parseHostPort(text: string): HostPort | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return `must be host:port (e.g. 0.0.0.0:5050 or [::1]:5050), got ${JSON.stringify(text)}`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port must be between 1 and 65535, got ${port}`;
  return { host: m[1] ?? m[2] ?? '', port };
}

export function hostPortField(o: Common<HostPort>): Field<HostPort> {
  return {
    kind: 'host:port',
    default: o.default,
    doc: o.doc,
    docZh: o.docZh,
    placeholder: '<host:port>',
    parse(raw) {
      if (typeof raw !== 'string') throw new FieldError(`must be a host:port string, got ${typeName(raw)}`);
      const r = parseHostPort(raw);
      if (typeof r === 'string') throw new FieldError(r);
      return r;
    },
    format: (v) => (v.host.includes(':') ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`),
  };
}

/** Declares a watcher's own options: camelCase property -> field. The YAML key is kebab-case. */
export type OptionFields<O> = { readonly [K in keyof O]: Field<O[K]> };

/** `maxInactiveDays` -> `max-inactive-days`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
