/**
 * The Chinese configuration reference in README.zh-CN.md: the same table as {@link renderConfigReference}
 * (same keys, defaults and environment names, between the same markers), with each key's `docZh`
 * as its meaning and the column headings and type names in Chinese. `make docs` writes both READMEs;
 * a unit test compares both and requires a `docZh` on every key.
 */
import { WatcherDefinitionError } from '../errors.js';
import type { WatcherSpec } from './watcher-keys.js';
import { reloadable } from './diff.js';
import { cell, defaultCell } from './reference.js';
import { configKeys, envName, type ConfigKey } from './schema.js';

/** Chinese names of the field kinds (`Field.kind`); `one of a | b` is rendered by {@link kindZh}. */
export const KIND_ZH: Readonly<Record<string, string>> = {
  string: '字符串',
  integer: '整数',
  port: '端口',
  boolean: '布尔值',
  duration: '时长',
  'duration or seconds': '时长或秒数',
  'list of strings': '字符串列表',
  'host:port': 'host:port',
};

const ONE_OF = 'one of ';

/** The type column in Chinese; undefined for a kind this file does not know yet. */
export function kindZh(kind: string): string | undefined {
  if (kind.startsWith(ONE_OF)) return `${kind.slice(ONE_OF.length)} 之一`;
  return KIND_ZH[kind];
}

/** Keys whose field has no Chinese doc (`docZh` missing or blank). */
export function keysWithoutDocZh(keys: readonly ConfigKey[]): string[] {
  return keys.filter((k) => (k.field.docZh ?? '').trim() === '').map((k) => k.key);
}

/**
 * The Chinese reference as Markdown (without the markers).
 * @throws WatcherDefinitionError naming every key that has no `docZh` (add one next to its `doc`).
 */
export function renderConfigReferenceZh(watchers: readonly WatcherSpec[]): string {
  const keys = configKeys(watchers);
  const missing = keysWithoutDocZh(keys);
  if (missing.length > 0) {
    throw new WatcherDefinitionError(
      `no docZh (Chinese doc) for ${missing.join(', ')}; add docZh next to the field's doc`,
    );
  }
  // prettier-ignore keeps `prettier --write .` from re-padding the table, which would fail the drift test.
  const out = [
    '<!-- 由 `make docs` 根据 schema 生成（test/tools/gen-config-reference.ts），请勿手工编辑。 -->',
    '<!-- prettier-ignore-start -->',
    '',
    '| 键 | 类型 | 默认值 | SIGHUP 时 | 说明 |',
    '|---|---|---|---|---|',
  ];
  for (const k of keys) {
    const secret = k.field.secret ? '敏感信息：输出时显示为 `***`。' : '';
    const meaning = `${k.field.docZh ?? ''}${secret}环境变量：\`${envName(k.key)}\`。`;
    const reload = reloadable(k.key) ? '立即生效' : '重启生效';
    const kind = kindZh(k.field.kind) ?? k.field.kind;
    out.push(`| \`${k.key}\` | ${cell(kind)} | ${cell(defaultCell(k))} | ${reload} | ${cell(meaning)} |`);
  }
  out.push('', '<!-- prettier-ignore-end -->');
  return `${out.join('\n')}\n`;
}
