/**
 * Parses configuration YAML into a document and turns YAML's errors into one-line problems, with
 * the hint operators need most: an unquoted cron spec (`*` starts an alias, `@` is reserved).
 */
import { LineCounter, isAlias, parseDocument, visit, type Document, type Node } from 'yaml';
import { MAX_NESTING, nestsTooDeeply } from './nesting.js';
import { Problems, WHOLE_CONFIG } from './problems.js';

/** A parsed file: the document, positions, and an alias resolver. */
export interface ParsedYaml {
  readonly doc: Document.Parsed;
  /** `file:line` of a source offset. */
  where(offset: number | undefined): string;
  /** The node an alias refers to (the last anchor of that name before it), or undefined. */
  resolveAlias(alias: Node): Node | undefined;
}

/** More aliases than this in one file is not a config file, it is an attack (or a mistake). */
export const MAX_ALIASES = 100;

/** Parses `text`; returns the document, or undefined with the problems added. */
export function parseYaml(text: string, file: string, problems: Problems): ParsedYaml | undefined {
  if (nestsTooDeeply(text)) {
    problems.add(WHOLE_CONFIG, `invalid YAML: nested more than ${MAX_NESTING} levels deep`, file);
    return undefined;
  }
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    problems.add(WHOLE_CONFIG, `invalid YAML: ${firstLine(err)}`, file);
    return undefined;
  }
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    return `${file}:${lines.linePos(offset).line}`;
  };
  if (doc.errors.length > 0) {
    reportSyntax(doc, text, file, lines, problems);
    return undefined;
  }
  const resolver = aliasResolver(doc);
  if (resolver === undefined) {
    problems.add(
      WHOLE_CONFIG,
      `has more than ${MAX_ALIASES} YAML aliases (*name); write the values out`,
      file,
    );
    return undefined;
  }
  return { doc, where, resolveAlias: resolver };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/call stack/i.test(msg)) return 'the file is nested too deeply';
  return msg.split('\n')[0] ?? msg;
}

function reportSyntax(
  doc: Document.Parsed,
  text: string,
  file: string,
  lines: LineCounter,
  problems: Problems,
): void {
  const source = text.split(/\r?\n/);
  const seen = new Set<number>();
  for (const err of doc.errors) {
    const { line, col } = lines.linePos(err.pos[0]);
    if (seen.has(line)) continue;
    seen.add(line);
    const hint = quoteHint(source, line - 1);
    if (hint) problems.add(hint.key, hint.message, `${file}:${line}`);
    else problems.add(WHOLE_CONFIG, `invalid YAML: ${firstLine(err)}`, `${file}:${line}:${col}`);
  }
}

const KEY_LINE = /^(\s*)([A-Za-z0-9_.-]+)\s*:(?:\s+|$)(.*)$/;

/** An unquoted value starting with `*`, `@` or a backtick is a cron spec (or similar) YAML cannot read. */
function quoteHint(source: readonly string[], index: number): { key: string; message: string } | undefined {
  const m = KEY_LINE.exec(source[index] ?? '');
  const value = m?.[3]?.replace(/\s+#.*$/, '').trim();
  if (!m || !value || !/^[*@`]/.test(value)) return undefined;
  const what = value.startsWith('*')
    ? 'reads an unquoted * as an alias'
    : `cannot start a plain value with ${value[0]}`;
  return {
    key: keyPathAt(source, index) ?? m[2] ?? WHOLE_CONFIG,
    message: `YAML ${what}; quote the spec: ${m[2]}: "${value.replace(/"/g, '\\"')}"`,
  };
}

/** The dotted key path of a block-style `key:` line, from the indentation of the lines above it. */
function keyPathAt(source: readonly string[], index: number): string | undefined {
  const m = KEY_LINE.exec(source[index] ?? '');
  if (!m?.[2]) return undefined;
  const path = [m[2]];
  let indent = m[1]?.length ?? 0;
  for (let i = index - 1; i >= 0 && indent > 0; i--) {
    const above = KEY_LINE.exec(source[i] ?? '');
    const aboveIndent = above?.[1]?.length ?? Infinity;
    if (above?.[2] && aboveIndent < indent) {
      path.unshift(above[2]);
      indent = aboveIndent;
    }
  }
  return path.join('.');
}

/** Resolves aliases from one pass over the document; undefined when it holds too many aliases. */
function aliasResolver(doc: Document.Parsed): ((alias: Node) => Node | undefined) | undefined {
  const ordered: Node[] = [];
  let aliases = 0;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) aliases++;
      if (isAlias(node) || node.anchor) ordered.push(node);
    },
  });
  if (aliases > MAX_ALIASES) return undefined;
  return (alias) => {
    if (!isAlias(alias)) return alias;
    let found: Node | undefined;
    for (const node of ordered) {
      if (node === alias) break;
      if (!isAlias(node) && node.anchor === alias.source) found = node;
    }
    return found;
  };
}
