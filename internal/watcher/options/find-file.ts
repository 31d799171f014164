/**
 * Which configuration file to read: `-c/--config`, else the first of the search path that exists.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The file name looked for in each directory of the search path. */
export const CONFIG_FILE_NAME = 'iam-watcher.yaml';

/** `./iam-watcher.yaml`, `~/.iam/iam-watcher.yaml`, `/etc/iam/iam-watcher.yaml`, in that order. */
export function configSearchPath(cwd: string, homeDir: string): string[] {
  return [
    join(cwd, CONFIG_FILE_NAME),
    join(homeDir, '.iam', CONFIG_FILE_NAME),
    join('/etc/iam', CONFIG_FILE_NAME),
  ];
}

/** Where to look, and how to tell that a candidate exists (tests replace it). */
export interface FindConfigInput {
  /** `-c/--config`; relative paths are taken from `cwd`. */
  readonly configPath?: string | undefined;
  readonly cwd: string;
  readonly homeDir: string;
  /** Replaces {@link configSearchPath} (tests, packagers with other locations). */
  readonly searchPath?: readonly string[] | undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The configuration file to load, or undefined when there is none (defaults only). An explicit
 * `configPath` is returned as given (resolved against `cwd`) even if it does not exist: the loader
 * then reports it, since an operator who names a file means it. Search-path entries count only when
 * they are regular files.
 */
export function findConfigFile(
  input: FindConfigInput,
  exists: (path: string) => boolean = isFile,
): string | undefined {
  if (input.configPath !== undefined && input.configPath !== '') return resolve(input.cwd, input.configPath);
  return (input.searchPath ?? configSearchPath(input.cwd, input.homeDir)).find((p) => exists(p));
}
