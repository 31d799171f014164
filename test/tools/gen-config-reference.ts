/**
 * Rewrites the configuration reference of README.md (English, from each key's `doc`) and of
 * README.zh-CN.md (Chinese, from each key's `docZh`) from the schema (`make docs`). With `--check`,
 * only compares and exits 1 when a README is out of date. A file argument limits it to that README
 * (a name ending in `.zh-CN.md` gets the Chinese table).
 *
 *   node --import tsx test/tools/gen-config-reference.ts [--check] [README.md | README.zh-CN.md]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry, type AnyPlugin } from '../../internal/watcher/watcher/registry.js';
import {
  extractReference,
  renderConfigReference,
  replaceReference,
} from '../../internal/watcher/options/reference.js';
import { renderConfigReferenceZh } from '../../internal/watcher/options/reference-zh.js';

type Render = (watchers: readonly AnyPlugin[]) => string;

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const named = args.find((a) => !a.startsWith('--'));
const renderFor = (file: string): Render =>
  file.endsWith('.zh-CN.md') ? renderConfigReferenceZh : renderConfigReference;
const files =
  named === undefined ? [resolve(root, 'README.md'), resolve(root, 'README.zh-CN.md')] : [resolve(named)];

for (const file of files) {
  const readme = readFileSync(file, 'utf8');
  let reference: string;
  try {
    reference = renderFor(file)(defaultRegistry.list());
  } catch (err) {
    process.stderr.write(`${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    continue;
  }
  if (check) {
    if (extractReference(readme) !== reference) {
      process.stderr.write(`${file}: the configuration reference is out of date; run \`make docs\`\n`);
      process.exitCode = 1;
    }
  } else {
    const next = replaceReference(readme, reference);
    if (next !== readme) writeFileSync(file, next);
    process.stdout.write(
      `${file}: configuration reference ${next === readme ? 'up to date' : 'rewritten'}\n`,
    );
  }
}
