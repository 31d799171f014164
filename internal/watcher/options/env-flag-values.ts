/**
 * Raw values from `IAM_WATCHER_*` environment variables and from `--<key> <value>` flags.
 */
import type { KeyIndex } from './key-index.js';
import type { Problems } from './problems.js';
import type { RawValue } from './raw-value.js';
import { ENV_PREFIX } from './schema.js';
import { didYouMean, nearest, suggestKey } from './suggest.js';

/**
 * One value per `IAM_WATCHER_*` variable. A name that matches no key, or more than one (`_` stands
 * for both `.` and `-`), is a problem: a typo in a variable would otherwise be ignored silently.
 */
export function envValues(
  env: Readonly<Record<string, string | undefined>>,
  index: KeyIndex,
  problems: Problems,
): RawValue[] {
  const out: RawValue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || isServiceLink(name, index)) continue;
    const keys = index.byEnv.get(name) ?? [];
    const first = keys[0];
    if (first === undefined) {
      problems.add(name, `unknown environment variable${didYouMean(nearest(name, index.byEnv.keys()))}`);
    } else if (keys.length > 1) {
      const names = keys.map((k) => k.key).join(' and ');
      problems.add(name, `is ambiguous: it names ${names}; set the key in the file or with a flag`);
    } else {
      out.push({ key: first.key, raw: value, source: 'env', where: `env ${name}` });
    }
  }
  return out;
}

/**
 * Kubernetes gives every pod `<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT`, `<SERVICE>_PORT_5050_TCP...`
 * for each Service in its namespace; a Service named iam-watcher yields `IAM_WATCHER_PORT=tcp://...`.
 * Those are not settings, and refusing them would stop the daemon from starting in its own cluster.
 */
function isServiceLink(name: string, index: KeyIndex): boolean {
  return (
    !index.byEnv.has(name) &&
    /^IAM_WATCHER_(SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_[A-Z]+)?)?)$/.test(name)
  );
}

/** One value per flag; flags are named by key path (`watcher.clean.max-reserve-days`). */
export function flagValues(
  flags: Readonly<Record<string, string>>,
  index: KeyIndex,
  problems: Problems,
): RawValue[] {
  const out: RawValue[] = [];
  const known = [...index.byKey.keys()];
  for (const [key, value] of Object.entries(flags)) {
    if (index.byKey.has(key)) {
      out.push({ key, raw: value, source: 'flag', where: `flag --${key}` });
      continue;
    }
    const suggestion = suggestKey(key, known);
    problems.add(
      key,
      `unknown option --${key}${didYouMean(suggestion === undefined ? undefined : `--${suggestion}`)}`,
    );
  }
  return out;
}
