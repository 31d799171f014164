/**
 * The command line: argv in, exit code out. Commands: the daemon (default), `validate`, `list`,
 * `run <watcher>`, `status`, and the operator controls (control-commands.ts). Every config key is also a flag named by its YAML path. Exit codes: 0 ok,
 * 1 runtime failure, 2 bad usage or bad config. Signals are handled here, in one place.
 */
import { hostname, homedir } from 'node:os';
import { Command, CommanderError } from 'commander';
import { stringify } from 'yaml';
import './watcher/all.js';
import { defaultRegistry, type AnyPlugin } from './watcher/registry.js';
import {
  loadConfig,
  effectiveConfigView,
  diffConfig,
  ignoredSettings,
  secretValues,
} from './options/index.js';
import { addConfigFlags, flagValues, type FlagMap } from './config-flags.js';
import { checkSchedule } from './scheduler/spec.js';
import { ConfigError, UsageError, exitCodeFor, formatProblem } from './errors.js';
import type { Config } from './config.js';
import { flushLogs, reopenLogFiles, type Logger } from '../pkg/log/log.js';
import { Secrets } from '../pkg/censor/censor.js';
import { createDaemonLogger } from './logging.js';
import { listWatchers } from './list.js';
import { controlCommands } from './control-commands.js';
import { VERSION } from './version.js';

/**
 * What the app needs from its surroundings; `cmd/` passes the process's. The exit code is decided
 * here (`runApp` resolves with it, errors through `exitCodeFor`); `cmd/` hands it to the process.
 */
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

/** What one `runApp` call shares between its commands. */
interface Session {
  readonly io: AppIO;
  /** `io.stdout` and `io.stderr` with every secret in {@link secrets} printed as `***`. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly watchers: readonly AnyPlugin[];
  /**
   * Every secret value of every config loaded so far: censored in logs and in everything printed
   * (a failed run's error, a start-up error that quotes a driver's message).
   */
  readonly secrets: Secrets;
  /** Set by whichever command runs. */
  code: number;
}

function buildConfig(cmd: Command, map: FlagMap, s: Session): Config {
  const opts = cmd.opts<{ config?: string }>();
  const config = loadConfig({
    configPath: opts.config,
    flags: flagValues(cmd, map),
    env: s.io.env,
    cwd: s.io.cwd,
    homeDir: homedir(),
    hostname: hostname(),
    pid: process.pid,
    watchers: s.watchers,
    checkSchedule,
  });
  s.secrets.add(secretValues(config, s.watchers));
  return config;
}

/** Runs the daemon until a stop signal; resolves with the exit code. */
async function runDaemon(config: Config, s: Session, reload: () => Config) {
  const { io, watchers } = s;
  const logger = createDaemonLogger(config, watchers, s.secrets);
  reportIgnored(config, s, logger);
  // Loaded here, not at the top: the drivers cost ~300 ms that --help, validate and list do not need.
  const { prepareServer } = await import('./server.js');
  const server = prepareServer({ config, watchers, logger, censor: (t) => s.secrets.censor(t) });
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
  // logrotate's postrotate: new lines go to a new file of the configured name.
  const onUsr1 = () => {
    const failed = reopenLogFiles();
    if (failed.length === 0) logger.info({ event: 'log.reopened' }, 'log files reopened');
    else
      logger.error({ event: 'log.reopen-failed', failed }, 'log files not reopened; writing to the old ones');
  };
  io.signals.on('SIGTERM', onStop);
  io.signals.on('SIGINT', onStop);
  io.signals.on('SIGHUP', onHup);
  io.signals.on('SIGUSR1', onUsr1);
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
    io.signals.off('SIGUSR1', onUsr1);
    flushLogs();
  }
}

/** One `config.ignored` warning naming every Go-only key set to something this daemon does not do. */
function reportIgnored(config: Config, s: Session, logger: Logger): void {
  const ignored = ignoredSettings(config, s.watchers);
  if (ignored.length === 0) return;
  logger.warn(
    { event: 'config.ignored', keys: ignored },
    `accepted for compatibility with the Go iam-watcher but without effect: ${ignored
      .map((i) => `${i.key} (${i.reason})`)
      .join('; ')}`,
  );
}

/** Prints an error that ended a command (secrets censored); returns its exit code. */
function printProblems(s: Session, err: unknown): number {
  if (err instanceof ConfigError) {
    const n = err.problems.length;
    s.stderr(`iam-watcher: invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n`);
    for (const p of err.problems) s.stderr(`  ${formatProblem(p)}\n`);
  } else {
    s.stderr(`iam-watcher: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return exitCodeFor(err);
}

/** Adds a command's config flags; returns the loader of its config. */
type WithConfig = (cmd: Command) => () => Config;

/** Builds the commander program; `s.code` is set by whichever action runs. */
function program(s: Session): Command {
  const root = new Command('iam-watcher')
    .description('Runs the periodic jobs (watchers) of the IAM system, once per slot across a cluster.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: s.stdout, writeErr: s.stderr })
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .allowExcessArguments(false);
  const withConfig: WithConfig = (cmd) => {
    const map = addConfigFlags(cmd, s.watchers);
    return () => buildConfig(cmd, map, s);
  };
  const loadRoot = withConfig(root);
  root.action(async () => {
    s.code = await runDaemon(loadRoot(), s, loadRoot);
  });
  const commands = [
    root,
    validateCommand(root, s, withConfig),
    listCommand(root, s, withConfig),
    runCommand(root, s, withConfig),
    statusCommand(root, s, withConfig),
    ...controlCommands(root, {
      stdout: s.stdout,
      watchers: s.watchers,
      secrets: s.secrets,
      withConfig,
      exit: (code) => {
        s.code = code;
      },
    }),
  ];
  for (const cmd of commands) cmd.exitOverride().configureOutput({ writeOut: s.stdout, writeErr: s.stderr });
  return root;
}

function validateCommand(root: Command, s: Session, withConfig: WithConfig): Command {
  const validate = root
    .command('validate')
    .description('check the configuration and print it (secrets as ***)');
  const load = withConfig(validate);
  validate.action(() => {
    const config = load();
    s.stdout(stringify(effectiveConfigView(config, s.watchers)));
    s.stderr(`configuration is valid${config.configFile ? ` (${config.configFile})` : ''}\n`);
    s.code = 0;
  });
  return validate;
}

function listCommand(root: Command, s: Session, withConfig: WithConfig): Command {
  const list = root.command('list').description('list the watchers with their schedules and next 5 slots');
  const load = withConfig(list);
  list.option('--json', 'print JSON').action(async () => {
    const json = list.opts<{ json?: boolean }>().json === true;
    const config = load();
    const { pausedForList } = await import('./control-actions.js');
    const paused = await pausedForList(config, s.stderr);
    s.stdout(listWatchers(config, s.watchers, new Date(), json, paused));
    s.code = 0;
  });
  return list;
}

function runCommand(root: Command, s: Session, withConfig: WithConfig): Command {
  const names = s.watchers.map((w) => w.name).join(', ');
  const run = root
    .command('run')
    .description('run one watcher once, now, under the same lease as a scheduled run')
    .argument('<watcher>', `one of: ${names}`)
    .option('--dry-run', 'count and name what would change; change nothing');
  const load = withConfig(run);
  run.action(async (name: string) => {
    if (!s.watchers.some((w) => w.name === name)) {
      throw new UsageError(`unknown watcher "${name}" (known: ${names})`);
    }
    const config = load();
    const logger = createDaemonLogger(config, s.watchers, s.secrets);
    try {
      const dryRun =
        run.opts<{ dryRun?: boolean }>().dryRun === true || config.watchers[name]?.dryRun === true;
      const { runOnce } = await import('./run-once.js');
      const r = await runOnce(
        { config, watchers: s.watchers, logger, censor: (t) => s.secrets.censor(t) },
        name,
        dryRun,
      );
      s.stdout(`${JSON.stringify({ watcher: name, ...r })}\n`);
      s.code = r.result === 'ok' ? 0 : 1;
    } finally {
      flushLogs();
    }
  });
  return run;
}

function statusCommand(root: Command, s: Session, withConfig: WithConfig): Command {
  const status = root
    .command('status')
    .description("the cluster's view from Redis: each watcher's last run, who runs it now, its next slot");
  const load = withConfig(status);
  status.option('--json', 'print JSON').action(async () => {
    const config = load();
    // Loaded here, not at the top: it pulls in the Redis driver (see runDaemon).
    const { clusterStatus } = await import('./status-command.js');
    const json = status.opts<{ json?: boolean }>().json === true;
    s.stdout(await clusterStatus(config, s.watchers, json));
    s.code = 0;
  });
  return status;
}

/** Runs the CLI. Never throws; resolves with the exit code. */
export async function runApp(argv: readonly string[], io: AppIO): Promise<number> {
  const secrets = new Secrets();
  const session: Session = {
    io,
    stdout: (text) => io.stdout(secrets.censor(text)),
    stderr: (text) => io.stderr(secrets.censor(text)),
    watchers: defaultRegistry.list(),
    secrets,
    code: 0,
  };
  try {
    await program(session).parseAsync([...argv], { from: 'user' });
    return session.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end here with exit code 0; parse errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    return printProblems(session, err);
  }
}
