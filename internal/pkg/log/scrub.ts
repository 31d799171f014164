/**
 * Censoring of secret properties in log lines: {@link scrubSecrets}, the pino options that apply it
 * to every line, its base bindings and its errors, and the wrapper that applies it to children's
 * bindings. Secret texts are cut out of the serialized line by the `Secrets` of censor.ts.
 */
import pino, { type Logger } from 'pino';
import { CENSOR, type Secrets } from '../censor/censor.js';

/** The property censored when no others are named. */
export const PASSWORD_ONLY: ReadonlySet<string> = new Set(['password']);
/** Deep enough for a whole config logged as one property: `config.watchers.<name>.options.<key>`. */
const SCRUB_DEPTH = 4;

/**
 * A copy of `value` with every property named in `keys` down to `depth` levels censored, or `value`
 * itself (not copied) when it has none: the common case costs a scan of the keys and no garbage.
 * Arrays are walked like objects. Errors are copied as plain objects of their own enumerable
 * properties plus name and message when a secret has to be censored inside them.
 */
export function scrubSecrets<T>(
  value: T,
  keys: ReadonlySet<string> = PASSWORD_ONLY,
  depth: number = SCRUB_DEPTH,
): T {
  if (typeof value !== 'object' || value === null) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  // for-in with an own-property check: no array of keys per line.
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    const v = source[key];
    let next: unknown = v;
    if (keys.has(key) && v !== undefined && v !== null && v !== '') next = CENSOR;
    else if (depth > 0 && typeof v === 'object' && v !== null) next = scrubSecrets(v, keys, depth - 1);
    if (next === v) continue;
    copy ??= copyOf(value);
    (copy as Record<string, unknown>)[key] = next;
  }
  return (copy ?? value) as T;
}

function copyOf(value: object): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return [...(value as unknown[])];
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (value instanceof Error) {
    copy['name'] ??= value.name;
    copy['message'] ??= value.message;
  }
  return copy;
}

/**
 * pino options that censor the secret properties of every line and of the base bindings (see
 * {@link scrubSecrets}), and of errors after pino's error serializer (a driver error may carry its
 * connection options: `err.config.password`); children's bindings are scrubbed by
 * {@link scrubChildBindings}; secret texts are cut out of the serialized line, once per line. Not
 * pino's `redact` option: its wildcard paths run a path parser and a clone for every property of
 * every line (measured at 7 KB of garbage per line, the largest cost of a run when a thousand
 * watchers share a slot).
 */
export function scrubbing(keys: ReadonlySet<string>, secrets: Secrets | undefined, withStack: boolean) {
  const errSerializer = (err: unknown) => {
    const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown> | undefined;
    if (!withStack && out !== undefined && typeof out === 'object') delete out['stack'];
    return scrubSecrets(out, keys);
  };
  return {
    formatters: {
      log: (obj: Record<string, unknown>) => scrubSecrets(obj, keys),
      bindings: (bindings: Record<string, unknown>) => scrubSecrets(bindings, keys),
    },
    serializers: { err: errSerializer },
    hooks: secrets === undefined ? {} : { streamWrite: (line: string) => secrets.censorJson(line) },
  };
}

/**
 * pino applies the bindings formatter to the root's base only; a child's bindings are scrubbed by
 * wrapping `child` on the root (children inherit it through their prototype).
 */
export function scrubChildBindings(root: Logger, keys: ReadonlySet<string>): Logger {
  const original = Object.getPrototypeOf(root) as { child: Logger['child'] };
  root.child = function scrubbedChild(this: Logger, bindings, options) {
    return original.child.call(this, scrubSecrets(bindings, keys), options);
  } as Logger['child'];
  return root;
}
