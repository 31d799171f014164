/**
 * The CLI's commands beside the daemon and the operator controls: `validate`, `list`,
 * `run <watcher>` and `status`. The daemon (the root command) and the program are in app.ts, the
 * operator controls in control-commands.ts.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { AnyPlugin } from './watcher/registry.js';
import { effectiveConfigView } from './options/index.js';
import { UsageError } from './errors.js';
import type { Config } from './config.js';
import { flushLogs } from '../pkg/log/log.js';
import type { Secrets } from '../pkg/censor/censor.js';
import { createDaemonLogger } from './logging.js';
import { listWatchers } from './list.js';

/** What the commands share with the app: the part of one `runApp` call's session they use. */
export interface CommandSession {
  /** The app's stdout and stderr with every secret in {@link secrets} printed as `***`. */
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

/** Adds a command's config flags; returns the loader of its config. */
export type WithConfig = (cmd: Command) => () => Config;

/** `validate`: checks the configuration and prints it. */
export function validateCommand(root: Command, s: CommandSession, withConfig: WithConfig): Command {
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

/** `list`: the watchers with their schedules, next slots and pauses. */
export function listCommand(root: Command, s: CommandSession, withConfig: WithConfig): Command {
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

/** `run <watcher>`: one run now, under the same lease as a scheduled run. */
export function runCommand(root: Command, s: CommandSession, withConfig: WithConfig): Command {
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

/** `status`: the cluster's view from Redis (status-command.ts). */
export function statusCommand(root: Command, s: CommandSession, withConfig: WithConfig): Command {
  const status = root
    .command('status')
    .description("the cluster's view from Redis: each watcher's last run, who runs it now, its next slot");
  const load = withConfig(status);
  status.option('--json', 'print JSON').action(async () => {
    const config = load();
    // Loaded here, not at the top: it pulls in the Redis driver (see runDaemon in app.ts).
    const { clusterStatus } = await import('./status-command.js');
    const json = status.opts<{ json?: boolean }>().json === true;
    s.stdout(await clusterStatus(config, s.watchers, json));
    s.code = 0;
  });
  return status;
}
