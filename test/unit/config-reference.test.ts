/**
 * The configuration reference of README.md (English) and of README.zh-CN.md (Chinese) is the one the
 * schema renders: adding, removing or re-documenting a key without `make docs` fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import { configKeys } from '../../internal/watcher/options/index.js';
import {
  extractReference,
  renderConfigReference,
  replaceReference,
} from '../../internal/watcher/options/reference.js';
import { renderConfigReferenceZh } from '../../internal/watcher/options/reference-zh.js';

const README = resolve(import.meta.dirname, '../../README.md');
const README_ZH = resolve(import.meta.dirname, '../../README.zh-CN.md');

test('README config reference matches the schema (run `make docs` to update it)', () => {
  const section = extractReference(readFileSync(README, 'utf8'));
  assert.ok(section !== undefined, 'README.md lacks the config-reference markers');
  assert.equal(section, renderConfigReference(defaultRegistry.list()));
});

test('README.zh-CN config reference matches the schema (run `make docs` to update it)', () => {
  const section = extractReference(readFileSync(README_ZH, 'utf8'));
  assert.ok(section !== undefined, 'README.zh-CN.md lacks the config-reference markers');
  assert.equal(section, renderConfigReferenceZh(defaultRegistry.list()));
});

test('the reference lists every key once, with its default, and never a secret value', () => {
  const watchers = defaultRegistry.list();
  const text = renderConfigReference(watchers);
  for (const k of configKeys(watchers)) {
    const rows = text.split('\n').filter((l) => l.startsWith(`| \`${k.key}\` |`));
    assert.equal(rows.length, 1, k.key);
  }
  assert.match(text, /\| `watcher\.clean\.max-reserve-days` \| integer \| `180` \|/);
  assert.match(text, /\| `mysql\.password` \| string \| `""` \| .*Secret/);
  const zh = renderConfigReferenceZh(watchers);
  for (const k of configKeys(watchers)) {
    assert.equal(zh.split('\n').filter((l) => l.startsWith(`| \`${k.key}\` |`)).length, 1, k.key);
  }
  assert.match(zh, /\| `watcher\.clean\.max-reserve-days` \| 整数 \| `180` \| 立即生效 \|/);
  assert.match(zh, /\| `mysql\.password` \| 字符串 \| `""` \| 重启生效 \| .*敏感信息/);
});

test('replaceReference rewrites only the section between the markers', () => {
  const doc = 'before\n<!-- config-reference:start -->\nold\n<!-- config-reference:end -->\nafter\n';
  const next = replaceReference(doc, 'new\n');
  assert.equal(next, 'before\n<!-- config-reference:start -->\nnew\n<!-- config-reference:end -->\nafter\n');
  assert.equal(extractReference(next), 'new\n');
  assert.throws(() => replaceReference('no markers', 'x'), /no <!-- config-reference:start -->/);
});
