/** `iam-watcher run <watcher>`: one run now, on the daemon's connections, then close them. */
import { watcherEntries } from './config.js';
import { Connections } from './connections.js';
import type { ServerDeps } from './server.js';
import { Scheduler, type RunNowResult } from './scheduler/scheduler.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { splitEntries } from './status-runner.js';
import { runStatusOnce } from './run-status.js';

/**
 * Runs one watcher once, now, under the same lease as a scheduled run (`iam-watcher run`).
 * Connects, runs, closes.
 */
export async function runOnce(deps: ServerDeps, name: string, dryRun: boolean): Promise<RunNowResult> {
  const conns = new Connections(deps.config, deps.logger);
  try {
    await conns.wait();
    const { entries, status } = splitEntries(
      watcherEntries(
        deps.config,
        deps.watchers.filter((w) => w.name === name),
      ),
    );
    const one = status[0];
    if (one !== undefined && isStatusWatcher(one.watcher)) {
      const statusDeps = {
        db: conns.db,
        rowClaims: (w: string) => conns.rowClaims(w),
        logger: deps.logger,
        instanceId: deps.config.instanceId,
      };
      return await runStatusOnce(statusDeps, one, dryRun);
    }
    const scheduler = new Scheduler({
      entries,
      coordinator: conns.coordinator,
      db: conns.db,
      dbConnectionLimit: deps.config.mysql.maxOpenConnections,
      logger: deps.logger,
      ...(deps.censor === undefined ? {} : { censor: deps.censor }),
      instanceId: deps.config.instanceId,
    });
    return await scheduler.runNow(name, { dryRun });
  } finally {
    await conns.close();
  }
}
