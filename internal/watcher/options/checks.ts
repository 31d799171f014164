/**
 * Small value checks shared by the schema: each returns a problem message or undefined.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isTimeZone } from '../../pkg/timezone/time-zone.js';
import { parseHostPort } from './fields.js';

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/** A host name or IP address (no port). */
export function checkHost(v: string): string | undefined {
  if (HOSTNAME.test(v) || (v.includes(':') && IPV6.test(v))) return undefined;
  return `must be a host name or IP address, got ${JSON.stringify(v)}`;
}

/** `host:port`, as the Go original's `mysql.host`. */
export function checkHostPort(v: string): string | undefined {
  const r = parseHostPort(v);
  if (typeof r === 'string') return r;
  return r.host === '' ? `must name a host before the port, got ${JSON.stringify(v)}` : undefined;
}

/** An IANA time zone Node knows (`Europe/Berlin`, `UTC`); empty means the process's local zone. */
export function checkTimeZone(v: string): string | undefined {
  if (v === '' || isTimeZone(v)) return undefined;
  return `must be an IANA time zone such as UTC or Europe/Berlin, got ${JSON.stringify(v)}`;
}

/** A URL path segment for the health endpoint (`healthz` or `/healthz`). */
export function checkUrlPath(v: string): string | undefined {
  return /^\/?[A-Za-z0-9._~\-/]+$/.test(v)
    ? undefined
    : `must be a URL path such as healthz, got ${JSON.stringify(v)}`;
}

/** Instance ids travel in lock values and logs: keep them printable and short. */
export function checkInstanceId(v: string): string | undefined {
  return /^[A-Za-z0-9._:@-]{0,128}$/.test(v)
    ? undefined
    : `must be at most 128 letters, digits or . _ : @ -, got ${JSON.stringify(v)}`;
}

/** Redis key prefixes: no spaces or glob characters, so SCAN patterns stay exact. */
export function checkKeyPrefix(v: string): string | undefined {
  return /^[A-Za-z0-9._:-]{1,64}$/.test(v)
    ? undefined
    : `must be 1 to 64 letters, digits or . _ : -, got ${JSON.stringify(v)}`;
}

/** A log output: `stdout`, `stderr` or a file path. */
export function checkOutputPath(v: string): string | undefined {
  if (v.trim() === '') return 'must be stdout, stderr or a file path, got an empty string';
  if (v === 'stdout' || v === 'stderr') return undefined;
  // As zap: the directory must exist (the daemon does not create it); the file is created if missing.
  try {
    if (statSync(v).isDirectory()) return `must be a file path, got the directory ${JSON.stringify(v)}`;
    accessSync(v, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `cannot write ${JSON.stringify(v)} (${code ?? 'unwritable'})`;
  }
  const dir = dirname(v);
  try {
    if (!statSync(dir).isDirectory()) return `cannot create ${JSON.stringify(v)}: ${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `cannot create ${JSON.stringify(v)}: the directory ${dir} does not exist`
      : `cannot create ${JSON.stringify(v)} in ${dir} (${code ?? 'unwritable'})`;
  }
}

/** A file the daemon must read (a TLS certificate or key); empty means none. */
export function checkReadableFile(v: string): string | undefined {
  if (v === '') return undefined;
  try {
    if (!statSync(v).isFile()) return `must be a file, got the directory ${JSON.stringify(v)}`;
    accessSync(v, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return `cannot read ${JSON.stringify(v)} (${code === 'ENOENT' ? 'no such file' : code})`;
  }
}
