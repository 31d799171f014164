/** `iam-watcher run <watcher>`: one run now, on the daemon's connections, then close them. */
import { watcherEntries } from './config.js';
import { Connections, type ServerDeps } from './server.js';
import { Scheduler, type RunNowResult } from './scheduler/scheduler.js';

/**
 * Runs one watcher once, now, under the same lease as a scheduled run (`iam-watcher run`).
 * Connects, runs, closes.
 */
export async function runOnce(deps: ServerDeps, name: string, dryRun: boolean): Promise<RunNowResult> {
  const conns = new Connections(deps.config, deps.logger);
  try {
    await conns.wait();
    const scheduler = new Scheduler({
      entries: watcherEntries(
        deps.config,
        deps.watchers.filter((w) => w.name === name),
      ),
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
