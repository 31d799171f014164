/** The app's surroundings taken from this process: its streams, environment and signals. */
import type { AppIO } from '../../internal/watcher/app.js';

/** The real process as the app sees it; a second stop signal leaves through `process.exit`. */
export function processIO(): AppIO {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    signals: process,
    forceExit: (exitCode) => process.exit(exitCode),
  };
}
