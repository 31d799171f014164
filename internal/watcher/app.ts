/**
 * The command line: argv in, exit code out. Commands: the daemon (default), `validate`, `list`,
 * `run <watcher>`, `status` (commands.ts), and the operator controls (control-commands.ts). Every config key is also a flag named by its YAML path. Exit codes: 0 ok,
 * 1 runtime failure, 2 bad usage or bad config. Signals are handled here, in one place.
 */
import { hostname, homedir } from 'node:os';
import { Command, CommanderError } from 'commander';
import './watcher/all.js';
import { defaultRegistry } from './watcher/registry.js';
import { loadConfig, diffConfig, ignoredSettings, secretValues } from './options/index.js';
import { addConfigFlags, flagValues, type FlagMap } from './config-flags.js';
import { checkSchedule } from './scheduler/spec.js';
import { ConfigError, exitCodeFor, formatProblem } from './errors.js';
import type { Config } from './config.js';
import { flushLogs, reopenLogFiles, type Logger } from '../pkg/log/log.js';
import { Secrets } from '../pkg/censor/censor.js';
import { createDaemonLogger } from './logging.js';
import { controlCommands } from './control-commands.js';
import {
  listCommand,
  runCommand,
  statusCommand,
  validateCommand,
  type CommandSession,
  type WithConfig,
} from './commands.js';
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
interface Session extends CommandSession {
  readonly io: AppIO;
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
