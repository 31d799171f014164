/**
 * The Chinese documentation keeps step with the English by structure, not by free text: every
 * English Markdown document (README, deploy guide, any guide under docs/) has a `.zh-CN.md` sibling;
 * their `##`/`###` headings correspond one to one, in order, through the explicit map below; their
 * tables list the same first-column entries and they hold the same number of code blocks; every
 * configuration key has a Chinese doc (`docZh`), and the YAML reference file explains every key in
 * both languages.
 *
 * When you add or rename a section of an English document, this test names it: translate the
 * section into the `.zh-CN.md` file and add the heading pair to HEADINGS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import { configKeys } from '../../internal/watcher/options/index.js';
import { extractReference } from '../../internal/watcher/options/reference.js';
import { keysWithoutDocZh, kindZh } from '../../internal/watcher/options/reference-zh.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface DocPair {
  /** The English document, relative to the repository root. */
  readonly en: string;
  /** Its Chinese counterpart. */
  readonly zh: string;
  /** English heading -> Chinese heading, `##`/`###` marks included (so levels must match). */
  readonly headings: Readonly<Record<string, string>>;
  /** Sections only the Chinese document has (skipped with their content when comparing). */
  readonly zhOnly?: readonly string[];
}

const DOCS: readonly DocPair[] = [
  {
    en: 'README.md',
    zh: 'README.zh-CN.md',
    headings: {
      '## Contents': '## 目录',
      '## Running it': '## 运行',
      '## Command line': '## 命令行',
      '## Configuration': '## 配置',
      '### Reference': '### 配置项参考',
      '## Schedules': '## 调度规则',
      '## The watchers': '## 内置 watcher',
      '## Operations': '## 运维',
      '## Metrics and alerts': '## 指标与告警',
      '## Guarantees and their limits': '## 保证及其局限',
      '## Architecture': '## 架构',
      '## Adding a watcher': '## 添加 watcher',
      '## Writing a status watcher': '## 编写状态 watcher',
      '## Coming from the Go iam-watcher': '## 从 Go 版 iam-watcher 迁移',
      '## Development': '## 开发',
      '## Why these libraries': '## 为什么选这些库',
    },
    zhOnly: ['## 常见错误信息', '## 术语表'],
  },
  {
    en: 'deploy/README.md',
    zh: 'deploy/README.zh-CN.md',
    headings: {
      '## systemd': '## systemd',
      '## Docker': '## Docker',
      '## Kubernetes': '## Kubernetes',
      '## Prometheus': '## Prometheus',
    },
  },
];

/** Folders whose Markdown is not operator or contributor documentation (tool output, test notes). */
const NOT_DOCS = new Set(['node_modules', 'dist', 'coverage', '.git', 'test']);

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const CJK = /[\u3400-\u9fff]/;

/** English Markdown documents in the repository (everything but the Chinese ones and NOT_DOCS). */
function englishDocs(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!NOT_DOCS.has(entry.name)) out.push(...englishDocs(join(dir, entry.name)));
    } else if (entry.name.endsWith('.md') && !entry.name.endsWith('.zh-CN.md')) {
      out.push(relative(ROOT, join(dir, entry.name)));
    }
  }
  return out.sort();
}

interface Section {
  readonly heading: string;
  readonly lines: string[];
}

/** The document split at its `##`/`###` headings (fenced code skipped); the first section is the head. */
function sections(markdown: string): Section[] {
  const out: Section[] = [{ heading: '', lines: [] }];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (!fenced && /^#{2,3} /.test(line)) out.push({ heading: line.trim(), lines: [] });
    else out.at(-1)!.lines.push(line);
  }
  return out;
}

/** The Chinese document's sections without the Chinese-only ones. */
function comparable(doc: DocPair, markdown: string): Section[] {
  return sections(markdown).filter((s) => !(doc.zhOnly ?? []).includes(s.heading));
}

/** First-column cells of every table body (header and separator rows dropped), table by table. */
function tableKeys(lines: readonly string[]): string[][] {
  const tables: string[][] = [];
  let rows: string[] | undefined;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      rows = undefined;
      continue;
    }
    if (rows === undefined) {
      rows = [];
      tables.push(rows);
      continue; // the header row
    }
    const first = /^\|\s*((?:[^|\\]|\\.)*?)\s*\|/.exec(line)?.[1] ?? '';
    if (/^:?-+:?$/.test(first)) continue; // the separator row
    rows.push(first);
  }
  return tables;
}

const codeBlocks = (lines: readonly string[]): number => lines.filter((l) => /^\s*```/.test(l)).length / 2;

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .replace(/^#+\s*/, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Prose of a Chinese document: fenced code, inline code, link targets and HTML comments removed. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown
    .split('\n')
    .filter((line) => {
      if (/^\s*```/.test(line)) {
        fenced = !fenced;
        return false;
      }
      return !fenced;
    })
    .map((line) =>
      line
        .replace(/<!--.*?-->/g, '')
        .replace(/`[^`]*`/g, '`…`')
        .replace(/\]\([^)]*\)/g, ']'),
    );
}

test('every English document has a Chinese counterpart listed here', () => {
  const listed = DOCS.map((d) => d.en);
  for (const en of englishDocs()) {
    assert.ok(
      listed.includes(en),
      `${en} has no Chinese counterpart: write ${en.replace(/\.md$/, '.zh-CN.md')} and add the pair to DOCS in test/unit/docs-zh.test.ts`,
    );
  }
  for (const doc of DOCS) {
    assert.ok(existsSync(join(ROOT, doc.en)), `${doc.en} is listed in DOCS but does not exist`);
    assert.ok(existsSync(join(ROOT, doc.zh)), `${doc.zh} is missing`);
  }
});

for (const doc of DOCS) {
  void test(`${doc.zh}: one Chinese section per section of ${doc.en}, in the same order`, () => {
    const en = sections(read(doc.en))
      .slice(1)
      .map((s) => s.heading);
    const zh = comparable(doc, read(doc.zh))
      .slice(1)
      .map((s) => s.heading);
    for (const h of en) {
      assert.ok(
        h in doc.headings,
        `${doc.en} has the section "${h}", which has no Chinese counterpart: translate it into ${doc.zh} and map it in HEADINGS of test/unit/docs-zh.test.ts`,
      );
    }
    for (const h of Object.keys(doc.headings)) {
      assert.ok(en.includes(h), `HEADINGS maps "${h}", which ${doc.en} no longer has: update ${doc.zh}`);
    }
    assert.deepEqual(
      zh,
      en.map((h) => doc.headings[h]),
      `${doc.zh} must have the sections of ${doc.en} (mapped through HEADINGS) in the same order`,
    );
  });

  void test(`${doc.zh}: the same table rows and code blocks as ${doc.en}, section by section`, () => {
    const en = sections(read(doc.en));
    const zh = comparable(doc, read(doc.zh));
    assert.equal(zh.length, en.length, `${doc.zh} and ${doc.en} differ in sections (see the heading test)`);
    en.forEach((section, i) => {
      const where = `${doc.zh}, section "${zh[i]!.heading || '(head)'}"`;
      assert.deepEqual(tableKeys(zh[i]!.lines), tableKeys(section.lines), `${where}: table rows`);
      assert.equal(codeBlocks(zh[i]!.lines), codeBlocks(section.lines), `${where}: code blocks`);
    });
  });

  void test(`${doc.zh} and ${doc.en} link to each other in their first lines, and the links resolve`, () => {
    const en = read(doc.en);
    const zh = read(doc.zh);
    const head = (text: string): string => text.split('\n').slice(0, 4).join('\n');
    const zhName = doc.zh.split('/').at(-1)!;
    const enName = doc.en.split('/').at(-1)!;
    assert.ok(head(en).includes(`](${zhName})`), `${doc.en} must link to ${zhName} right after its title`);
    assert.ok(head(zh).includes(`](${enName})`), `${doc.zh} must link back to ${enName}`);
    for (const [text, name] of [
      [en, doc.en],
      [zh, doc.zh],
    ] as const) {
      const anchors = new Set(sections(text).map((s) => anchor(s.heading)));
      for (const m of text.matchAll(/\]\(#([^)]+)\)/g)) {
        assert.ok(anchors.has(m[1]!), `${name}: the link #${m[1]} names no heading`);
      }
    }
  });

  void test(`${doc.zh}: Chinese sentences use full-width punctuation`, () => {
    prose(read(doc.zh)).forEach((line, i) => {
      const bad = /[\u3400-\u9fff][,;:!?()]|[,;:!?(][\u3400-\u9fff]|[\u3400-\u9fff]\.(?:\s|$)/u.exec(line);
      assert.equal(bad, null, `${doc.zh}:${i + 1}: half-width punctuation in Chinese text: ${bad?.[0]}`);
    });
  });
}

test('README.zh-CN.md lists the common error messages and ends with a glossary', () => {
  const zh = sections(read('README.zh-CN.md'));
  assert.equal(zh.at(-1)!.heading, '## 术语表');
  const errors = zh.find((s) => s.heading === '## 常见错误信息');
  assert.ok(errors);
  const text = errors.lines.join('\n');
  for (const message of [
    'unknown key; did you mean',
    'is not a duration',
    'lease lost: the run is aborted',
  ]) {
    assert.ok(text.includes(message), `the error list lacks "${message}"`);
  }
});

test('every configuration key, common and watcher-owned, has a Chinese doc', () => {
  const keys = configKeys(defaultRegistry.list());
  assert.deepEqual(keysWithoutDocZh(keys), [], 'add docZh next to the doc of these keys');
  for (const k of keys) {
    const zh = k.field.docZh ?? '';
    assert.match(zh, CJK, `${k.key}: docZh is not Chinese`);
    assert.ok(zh.endsWith('。'), `${k.key}: docZh must end with 。`);
    assert.doesNotMatch(
      zh,
      /[\u3400-\u9fff][,;:()]|[,;(][\u3400-\u9fff]/u,
      `${k.key}: half-width punctuation`,
    );
    assert.ok(kindZh(k.field.kind) !== undefined, `${k.key}: no Chinese name for the type ${k.field.kind}`);
  }
});

test('the generated references of README.md and README.zh-CN.md list the same keys', () => {
  const keysOf = (file: string): string[] => {
    const section = extractReference(read(file));
    assert.ok(section !== undefined, `${file} lacks the config-reference markers`);
    return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
  };
  const en = keysOf('README.md');
  assert.ok(en.length > 0);
  assert.deepEqual(keysOf('README.zh-CN.md'), en);
});

test('configs/iam-watcher.yaml explains every commented key in English and in Chinese', () => {
  const lines = read('configs/iam-watcher.yaml').split('\n');
  let block: string[] = [];
  const check = (at: number): void => {
    if (block.length === 0) return;
    const text = block.join('\n');
    assert.ok(CJK.test(text), `configs/iam-watcher.yaml:${at}: comment without its Chinese text`);
    assert.ok(
      block.some((l) => !CJK.test(l)),
      `configs/iam-watcher.yaml:${at}: comment without its English text`,
    );
    block = [];
  };
  lines.forEach((line, i) => {
    const comment = /^\s*#\s?(.*)$/.exec(line);
    if (comment && comment[1]!.trim() !== '') block.push(comment[1]!);
    else check(i + 1);
  });
  check(lines.length);
});
