/**
 * The configuration loader: file (found by `-c` or the search path, `${VAR}`-expanded), then
 * `IAM_WATCHER_*` environment, then flags, over the schema's defaults; the result is a frozen
 * {@link Config} or a {@link ConfigError} that lists every problem.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { WatcherSpec } from './watcher-keys.js';
import { compile, type ScheduleCheck } from './compile.js';
import { envValues, flagValues } from './env-flag-values.js';
import { fileValues } from './file-values.js';
import { findConfigFile } from './find-file.js';
import { indexKeys, type KeyIndex } from './key-index.js';
import { Problems, WHOLE_CONFIG } from './problems.js';
import type { RawValue } from './raw-value.js';
import { readConfigText } from './read-file.js';
import { parseYaml } from './yaml-doc.js';

export { findConfigFile, configSearchPath, CONFIG_FILE_NAME } from './find-file.js';
export type { ScheduleCheck } from './compile.js';

/** Everything the loader reads; the caller passes the process's state so tests can pass their own. */
export interface LoadInput {
  /** `-c/--config`; when absent the search path is used, and no file at all means defaults only. */
  readonly configPath?: string | undefined;
  /** Key path -> raw string: `{'watcher.clean.max-reserve-days': '90'}`. */
  readonly flags: Readonly<Record<string, string>>;
  /** `IAM_WATCHER_*` overrides and the variables `${VAR}` in the file refers to. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly homeDir: string;
  /** Replaces the search path `./`, `~/.iam/`, `/etc/iam/` (tests; packagers with other locations). */
  readonly searchPath?: readonly string[] | undefined;
  readonly hostname: string;
  readonly pid: number;
  readonly watchers: readonly WatcherSpec[];
  /** Checks a schedule spec for a mode and zone (injected: options/ does not depend on the scheduler). */
  readonly checkSchedule: ScheduleCheck;
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError listing every problem, each naming its key path (and `file:line` where known).
 */
export function loadConfig(input: LoadInput): Config {
  const problems = new Problems();
  const index = indexKeys(input.watchers);
  const configFile = findConfigFile(input);
  const values: RawValue[] = [
    ...(configFile === undefined ? [] : readFileValues(configFile, index, input.env, problems)),
    ...envValues(input.env, index, problems),
    ...flagValues(input.flags, index, problems),
  ];
  const config = compile(
    {
      index,
      values,
      configFile,
      hostname: input.hostname,
      pid: input.pid,
      checkSchedule: input.checkSchedule,
    },
    problems,
  );
  if (config === undefined) throw new ConfigError(problems.list);
  return config;
}

function readFileValues(
  file: string,
  index: KeyIndex,
  env: Readonly<Record<string, string | undefined>>,
  problems: Problems,
): RawValue[] {
  const read = readConfigText(file);
  if ('problem' in read) {
    problems.add(WHOLE_CONFIG, `config file ${read.problem}`);
    return [];
  }
  const yaml = parseYaml(read.text, file, problems);
  return yaml === undefined ? [] : fileValues({ yaml, index, env, problems }, file);
}
