/**
 * Rewrites the README's configuration reference from the schema (`make docs`). With `--check`, only
 * compares and exits 1 when the README is out of date.
 *
 *   node --import tsx test/tools/gen-config-reference.ts [--check] [README.md]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import {
  extractReference,
  renderConfigReference,
  replaceReference,
} from '../../internal/watcher/options/reference.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const file = resolve(
  args.find((a) => !a.startsWith('--')) ?? resolve(import.meta.dirname, '../../README.md'),
);
const readme = readFileSync(file, 'utf8');
const reference = renderConfigReference(defaultRegistry.list());

if (check) {
  if (extractReference(readme) !== reference) {
    process.stderr.write(`${file}: the configuration reference is out of date; run \`make docs\`\n`);
    process.exitCode = 1;
  }
} else {
  const next = replaceReference(readme, reference);
  if (next !== readme) writeFileSync(file, next);
  process.stdout.write(`${file}: configuration reference ${next === readme ? 'up to date' : 'rewritten'}\n`);
}
