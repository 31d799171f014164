#!/usr/bin/env node
/** Entry point: argv -> app -> exit code. Nothing else. */
import { runApp } from '../../internal/watcher/app.js';
import { processIO } from './process-io.js';

process.exitCode = await runApp(process.argv.slice(2), processIO());
