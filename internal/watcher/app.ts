/**
 * The command line: argv in, exit code out. Commands: the daemon (default), `validate`, `list`,
 * `run <watcher>`, `status`. Every config key is also a flag named by its YAML path. Exit codes: 0 ok,
 * 1 runtime failure, 2 bad usage or bad config. Signals are handled here, in one place.
 */
import { hostname, homedir } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import type { Logger } from 'pino';
import './watcher/all.js';
import { defaultRegistry, type AnyWatcher } from './watcher/registry.js';
import { loadConfig, configKeys, defaultText, effectiveConfigView, diffConfig } from './options/index.js';
import { checkSchedule } from './scheduler/spec.js';
import { ConfigError, StartupError, UsageError, exitCodeFor, formatProblem } from './errors.js';
import type { Config } from './config.js';
import { createLogger, flushLogs } from '../pkg/log/log.js';
import { listWatchers } from './list.js';
import { VERSION } from './version.js';

/** What the app needs from its surroundings; `cmd/` passes the process's. */
export interface AppIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Where signals arrive (the process). */
  readonly signals: NodeJS.EventEmitter;
  /** Called on a second stop signal: leave now with this code. */
  readonly forceExit: (code: number) => void;
}

interface CommandResult {
  code: number;
}

/** Maps commander attribute names back to config key paths. */
type FlagMap = Map<string, string>;

function addConfigFlags(cmd: Command, watchers: readonly AnyWatcher[]): FlagMap {
  const map: FlagMap = new Map();
  cmd.option('-c, --config <file>', 'configuration file (default: ./iam-watcher.yaml, ~/.iam/, /etc/iam/)');
  for (const k of configKeys(watchers)) {
    const { key, field } = k;
    const def = field.secret ? '' : defaultText(k);
    const opt = new Option(
      `--${key} ${field.placeholder}`,
      `${field.doc} (default: ${def === '' ? '""' : def})`,
    );
    map.set(opt.attributeName(), key);
    cmd.addOption(opt);
  }
  return map;
}

function flagValues(cmd: Command, map: FlagMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [attr, value] of Object.entries(cmd.opts())) {
    const key = map.get(attr);
    if (key !== undefined && typeof value === 'string') out[key] = value;
  }
  return out;
}

function buildConfig(cmd: Command, map: FlagMap, io: AppIO, watchers: readonly AnyWatcher[]): Config {
  const opts = cmd.opts<{ config?: string }>();
  return loadConfig({
    configPath: opts.config,
    flags: flagValues(cmd, map),
    env: io.env,
    cwd: io.cwd,
    homeDir: homedir(),
    hostname: hostname(),
    pid: process.pid,
    watchers,
    checkSchedule,
  });
}

function makeLogger(config: Config): Logger {
  try {
    // No `instance` in the base: the daemon's event lines name it themselves, and a base field
    // would appear twice in them.
    return createLogger(config.log);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ key: 'log.output-paths', message: `cannot open log output: ${reason}` }]);
  }
}

/** Runs the daemon until a stop signal; resolves with the exit code. */
async function runDaemon(config: Config, io: AppIO, watchers: readonly AnyWatcher[], reload: () => Config) {
  const logger = makeLogger(config);
  // Loaded here, not at the top: the drivers cost ~300 ms that --help, validate and list do not need.
  const { prepareServer } = await import('./server.js');
  const server = prepareServer({ config, watchers, logger });
  let signals = 0;
  const onStop = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ event: 'daemon.forced', signal: sig }, `second ${sig}: exiting now`);
      io.forceExit(sig === 'SIGINT' ? 130 : 143);
      return;
    }
    logger.info({ event: 'daemon.signal', signal: sig }, `${sig} received`);
    void server.stop();
  };
  let applied = config; // watcher keys apply on reload; every other key keeps its start-up value
  const onHup = () => {
    try {
      const next = reload();
      server.reconfigure(next);
      const changed = diffConfig(applied, next, watchers).applied;
      const needsRestart = diffConfig(config, next, watchers).needsRestart;
      applied = next;
      logger.info(
        { event: 'config.reloaded', changed, needsRestart },
        `configuration reloaded: ${changed.length} key(s) applied` +
          (needsRestart.length > 0
            ? `; ${needsRestart.map((c) => c.key).join(', ')} need(s) a restart and keep the running value`
            : ''),
      );
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [String(err)];
      logger.error(
        { event: 'config.reload-refused', problems },
        'new configuration refused; keeping the running one',
      );
    }
  };
  io.signals.on('SIGTERM', onStop);
  io.signals.on('SIGINT', onStop);
  io.signals.on('SIGHUP', onHup);
  try {
    try {
      await server.start();
    } catch (err) {
      const code = await server.stop();
      if (signals > 0) return code; // stopped while waiting for dependencies: a normal stop
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ event: 'daemon.failed', cause: message }, `start-up failed: ${message}`);
      throw err;
    }
    return await server.done;
  } finally {
    io.signals.off('SIGTERM', onStop);
    io.signals.off('SIGINT', onStop);
    io.signals.off('SIGHUP', onHup);
    flushLogs();
  }
}

function printProblems(io: AppIO, err: unknown): number {
  if (err instanceof ConfigError) {
    io.stderr(
      `iam-watcher: invalid configuration (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n`,
    );
    for (const p of err.problems) io.stderr(`  ${formatProblem(p)}\n`);
  } else if (err instanceof UsageError || err instanceof StartupError) {
    io.stderr(`iam-watcher: ${err.message}\n`);
  } else {
    io.stderr(`iam-watcher: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return exitCodeFor(err);
}

/** Builds the commander program; `result.code` is set by whichever action runs. */
function program(io: AppIO, watchers: readonly AnyWatcher[], result: CommandResult): Command {
  const root = new Command('iam-watcher')
    .description('Runs the periodic jobs (watchers) of the IAM system, once per slot across a cluster.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .allowExcessArguments(false);

  const withConfig = (cmd: Command) => {
    const map = addConfigFlags(cmd, watchers);
    return () => buildConfig(cmd, map, io, watchers);
  };

  const loadRoot = withConfig(root);
  root.action(async () => {
    const config = loadRoot();
    result.code = await runDaemon(config, io, watchers, loadRoot);
  });

  const validate = root
    .command('validate')
    .description('check the configuration and print it (secrets as ***)');
  const loadValidate = withConfig(validate);
  validate.action(() => {
    const config = loadValidate();
    io.stdout(stringify(effectiveConfigView(config, watchers)));
    io.stderr(`configuration is valid${config.configFile ? ` (${config.configFile})` : ''}\n`);
    result.code = 0;
  });

  const list = root.command('list').description('list the watchers with their schedules and next 5 slots');
  const loadList = withConfig(list);
  list.option('--json', 'print JSON').action(() => {
    const config = loadList();
    io.stdout(listWatchers(config, watchers, new Date(), list.opts<{ json?: boolean }>().json === true));
    result.code = 0;
  });

  const run = root
    .command('run')
    .description('run one watcher once, now, under the same lease as a scheduled run')
    .argument('<watcher>', `one of: ${watchers.map((w) => w.name).join(', ')}`)
    .option('--dry-run', 'count and name what would change; change nothing');
  const loadRun = withConfig(run);
  run.action(async (name: string) => {
    if (!watchers.some((w) => w.name === name)) {
      throw new UsageError(`unknown watcher "${name}" (known: ${watchers.map((w) => w.name).join(', ')})`);
    }
    const config = loadRun();
    const logger = makeLogger(config);
    try {
      const dryRun =
        run.opts<{ dryRun?: boolean }>().dryRun === true || config.watchers[name]?.dryRun === true;
      const { runOnce } = await import('./server.js');
      const r = await runOnce({ config, watchers, logger }, name, dryRun);
      io.stdout(`${JSON.stringify({ watcher: name, ...r })}\n`);
      result.code = r.result === 'ok' ? 0 : 1;
    } finally {
      flushLogs();
    }
  });

  const status = root
    .command('status')
    .description("the cluster's view from Redis: each watcher's last run, who runs it now, its next slot");
  const loadStatus = withConfig(status);
  status.option('--json', 'print JSON').action(async () => {
    const config = loadStatus();
    // Loaded here, not at the top: it pulls in the Redis driver (see runDaemon).
    const { clusterStatus } = await import('./status.js');
    io.stdout(await clusterStatus(config, watchers, status.opts<{ json?: boolean }>().json === true));
    result.code = 0;
  });

  for (const cmd of [root, validate, list, run, status]) {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  }
  return root;
}

/** Runs the CLI. Never throws; resolves with the exit code. */
export async function runApp(argv: readonly string[], io: AppIO): Promise<number> {
  const watchers = defaultRegistry.list();
  const result: CommandResult = { code: 0 };
  try {
    await program(io, watchers, result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end here with exit code 0; parse errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    return printProblems(io, err);
  }
}
