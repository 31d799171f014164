/**
 * Reads a configuration file defensively: directories, huge files, unreadable files and binary data
 * become one-line problems instead of exceptions.
 */
import { readFileSync, statSync } from 'node:fs';

/** Files larger than this are refused: a config file is a few kilobytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text, or why it cannot be used. */
export type ReadResult = { readonly text: string } | { readonly problem: string };

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? (code ? `cannot be read (${code})` : 'cannot be read');
}

/** Reads `path` as UTF-8 text of at most {@link MAX_CONFIG_BYTES}. */
export function readConfigText(path: string): ReadResult {
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { problem: `${path} is a directory, not a file` };
    if (!st.isFile()) return { problem: `${path} is not a regular file` };
    if (st.size > MAX_CONFIG_BYTES) return { problem: tooLarge(path, st.size) };
    bytes = readFileSync(path);
  } catch (err) {
    return { problem: `${path}: ${reason(err)}` };
  }
  // The size can change between stat and read.
  if (bytes.length > MAX_CONFIG_BYTES) return { problem: tooLarge(path, bytes.length) };
  return decodeText(path, bytes);
}

function tooLarge(path: string, size: number): string {
  return `${path} is ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES} bytes`;
}

function decodeText(path: string, bytes: Buffer): ReadResult {
  if (bytes.includes(0)) return { problem: `${path} is not a text file (it contains NUL bytes)` };
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text };
  } catch {
    return { problem: `${path} is not a text file (it is not valid UTF-8)` };
  }
}
