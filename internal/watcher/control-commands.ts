/**
 * The operator-control commands of the CLI: `pause`, `resume`, `trigger`, `history`. Their work is
 * in control-actions.ts; here are the commander definitions and the checks of their arguments.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from './config.js';
import type { AnyWatcher } from './watcher/registry.js';
import { UsageError } from './errors.js';
import { createDaemonLogger } from './logging.js';
import type { Secrets } from '../pkg/censor/censor.js';
import { flushLogs } from '../pkg/log/log.js';
import type { ActionResult } from './control-actions.js';

/** What the commands need from the app. */
export interface ControlCommandDeps {
  readonly stdout: (text: string) => void;
  readonly watchers: readonly AnyWatcher[];
  readonly secrets: Secrets;
  /** Adds a command's config flags; returns the loader of its config. */
  withConfig(cmd: Command): () => Config;
  /** Sets the exit code. */
  exit(code: number): void;
}

/** Adds the four commands to `root`; returns them. */
export function controlCommands(root: Command, d: ControlCommandDeps): Command[] {
  const names = d.watchers.map((w) => w.name).join(', ');
  const known = (name: string): void => {
    if (!d.watchers.some((w) => w.name === name))
      throw new UsageError(`unknown watcher "${name}" (known: ${names})`);
  };
  const act = (cmd: Command, fn: (config: Config, name: string) => Promise<ActionResult>): void => {
    const load = d.withConfig(cmd);
    cmd.action(async (name: string) => {
      known(name);
      const config = load();
      const r = await fn(config, name);
      if (r.event !== undefined) {
        // The operator's action goes to the configured logs too (where it was issued, and when).
        const logger = createDaemonLogger(config, d.watchers, d.secrets);
        logger.info(r.event, `${String(r.event.event)} ${name}`);
        flushLogs();
      }
      d.stdout(r.text);
      d.exit(r.code);
    });
  };
  const pause = root
    .command('pause')
    .description('pause a watcher on every replica (kept in Redis) until resume; its slots are skipped')
    .argument('<watcher>', `one of: ${names}`)
    .option('--note <text>', 'why (shown by status, list and the logs)')
    .option('--abort', 'also abort a run going on now (its AbortSignal fires)');
  act(pause, async (config, name) => {
    const o = pause.opts<{ note?: string; abort?: boolean }>();
    const { pauseWatcher } = await import('./control-actions.js');
    return pauseWatcher(config, name, o);
  });
  const resume = root
    .command('resume')
    .description('resume a paused watcher on every replica; its next slot runs')
    .argument('<watcher>', `one of: ${names}`);
  act(resume, async (config, name) => (await import('./control-actions.js')).resumeWatcher(config, name));
  const trigger = root
    .command('trigger')
    .description('ask the running cluster to run a watcher once now, on one replica; wait for its result')
    .argument('<watcher>', `one of: ${names}`)
    .option('--no-wait', 'return once a replica took the request')
    .option('--dry-run', 'count and name what would change; change nothing');
  act(trigger, async (config, name) => {
    const o = trigger.opts<{ wait: boolean; dryRun?: boolean }>();
    if (config.watchers[name]?.enabled !== true)
      throw new UsageError(`watcher "${name}" is not enabled in this configuration`);
    const { triggerWatcher } = await import('./control-actions.js');
    return triggerWatcher(config, name, {
      noWait: !o.wait,
      dryRun: o.dryRun === true || config.watchers[name]?.dryRun === true,
    });
  });
  const history = root
    .command('history')
    .description("a watcher's last runs across the cluster, newest first (kept in Redis)")
    .argument('<watcher>', `one of: ${names}`)
    .option('--limit <n>', 'how many runs (at most history.size)', positive, 20)
    .option('--json', 'print JSON');
  act(history, async (config, name) => {
    const o = history.opts<{ limit: number; json?: boolean }>();
    const { watcherHistory } = await import('./control-actions.js');
    return watcherHistory(config, name, o.limit, o.json === true);
  });
  return [pause, resume, trigger, history];
}

function positive(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}
