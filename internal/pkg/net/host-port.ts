/** `host:port` text as the config holds it, split for a client library. */

/** A listen or connect address; an IPv6 host without brackets (`::1`). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Splits `host:port`, `host`, `[v6]:port` or `[v6]` into parts; `defaultPort` when none is given.
 * The text is validated by the config schema first; anything unparsable is returned as the host.
 */
export function splitHostPort(hostPort: string, defaultPort: number): HostPort {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!m) return { host: hostPort, port: defaultPort };
  return { host: m[1] ?? hostPort, port: m[2] ? Number(m[2]) : defaultPort };
}
