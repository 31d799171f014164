/**
 * Daemons for the fault suite, on the shared cluster helpers (test/helpers/cluster.ts): an instance
 * that is adopted (killed when the test process exits), waits longer, and answers /metrics; configs
 * with a MySQL connection lifetime of 1m; and the slot accounting by watcher, without manual runs.
 */
import { CLI } from '../../helpers/daemon.js';
import {
  Instance as ClusterInstance,
  PROBE_DAEMON,
  startAllWith,
  tallySlots,
  untilMidSecond,
  writeClusterConfig,
  type ClusterConfig,
  type LogLine,
  type SlotTally,
  type SpawnOptions,
  type WatcherKeys,
} from '../../helpers/cluster.js';
import { adopt } from './procs.js';

export { CLI, untilMidSecond, type LogLine, type SpawnOptions, type WatcherKeys };

export const FAULT_DAEMON = PROBE_DAEMON;

/** What an instance's config sets. */
export type FaultConfig = ClusterConfig;

/** Writes a config file (MySQL connections live 1m unless set); returns it and the health port. */
export function writeFaultConfig(c: FaultConfig): Promise<{ file: string; healthPort: number }> {
  return writeClusterConfig({ mysqlMaxConnectionLifeTime: '1m', ...c }, 'iamw-faults-');
}

/** One spawned daemon, adopted. */
export class Instance extends ClusterInstance {
  constructor(name: string, file: string, healthPort: number, opts: SpawnOptions = {}) {
    super(name, file, healthPort, opts);
    adopt(this.daemon.child);
  }

  protected override get waitTimeoutMs(): number {
    return 30_000;
  }

  protected override get stopTimeoutMs(): number {
    return 20_000;
  }

  static override async start(config: FaultConfig, opts: SpawnOptions = {}): Promise<Instance> {
    const { file, healthPort } = await writeFaultConfig(config);
    return new Instance(config.instanceId, file, healthPort, opts);
  }

  /** /metrics as text. */
  async metricsText(timeoutMs = 3000): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.healthPort}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.text();
  }

  /** One sample of /metrics: `name{labels}` with the labels given (others ignored); NaN if absent. */
  async metric(name: string, labels: Record<string, string> = {}, timeoutMs = 3000): Promise<number> {
    return metricValue(await this.metricsText(timeoutMs), name, labels);
  }
}

/** The value of a Prometheus sample in `text`, summed over series matching `labels`; NaN if none. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const kv of (m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)) have[kv[1]!] = kv[2]!;
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    sum += Number(m[4]);
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** Starts instances together and waits for each to log `daemon.started`. */
export function startAll(
  configs: ReadonlyArray<{ config: FaultConfig; opts?: SpawnOptions }>,
): Promise<Instance[]> {
  return startAllWith(configs, (c, o) => Instance.start(c, o));
}

/** Per-slot outcome of a fixed-rate watcher across the logs of several processes. */
export type SlotCount = SlotTally;

/** Counts `run.finished` lines of `watcher` (manual runs aside) per grid slot in [fromMs, toMs]. */
export function countSlots(
  logs: ReadonlyArray<{ name: string; lines: LogLine[] }>,
  watcher: string,
  fromMs: number,
  toMs: number,
  intervalMs: number,
): SlotCount {
  return tallySlots(logs, fromMs, toMs, intervalMs, { watcher, skipManual: true });
}

/** Every instance's lines, as `countSlots` wants them (restarted processes under their own name). */
export function logsOf(instances: readonly ClusterInstance[]): Array<{ name: string; lines: LogLine[] }> {
  return instances.map((i, k) => ({ name: `${i.name}#${k}`, lines: i.lines() }));
}
