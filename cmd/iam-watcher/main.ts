#!/usr/bin/env node
/** Entry point: argv -> app -> exit code. Nothing else. */
import { runApp } from '../../internal/watcher/app.js';

const code = await runApp(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  signals: process,
  forceExit: (exitCode) => process.exit(exitCode),
});
process.exitCode = code;
