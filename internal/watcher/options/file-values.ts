/**
 * Walks a parsed configuration file along the schema and collects one raw value per key. Unknown
 * keys, misplaced values and `${VAR}` problems become problems with their file line. The walk follows
 * the schema, never the document's own depth, and turns nested collections under a key into
 * placeholders, so deep nesting and alias bombs cost nothing.
 */
import { isAlias, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { expandVars } from './expand.js';
import type { KeyIndex } from './key-index.js';
import { Problems, WHOLE_CONFIG } from './problems.js';
import type { RawValue } from './raw-value.js';
import { didYouMean, suggestKey } from './suggest.js';
import type { ParsedYaml } from './yaml-doc.js';

/** What the walk needs besides the document. */
export interface WalkContext {
  readonly yaml: ParsedYaml;
  readonly index: KeyIndex;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly problems: Problems;
}

/** Raw values of every known key the file sets. A non-mapping document is a problem. */
export function fileValues(ctx: WalkContext, file: string): RawValue[] {
  const root = ctx.yaml.doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isMap(root)) {
    ctx.problems.add(
      WHOLE_CONFIG,
      `${file} must be a YAML mapping of keys (such as mysql: and watcher:), got ${shape(root)}`,
    );
    return [];
  }
  const out: RawValue[] = [];
  walkMap(ctx, root, '', out);
  return out;
}

function walkMap(ctx: WalkContext, map: YAMLMap, prefix: string, out: RawValue[]): void {
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const where = ctx.yaml.where(keyNode?.range?.[0]);
    if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
      ctx.problems.add(prefix || WHOLE_CONFIG, 'keys must be plain names such as max-reserve-days', where);
      continue;
    }
    const path = prefix ? `${prefix}.${String(keyNode.value)}` : String(keyNode.value);
    visitPair(ctx, path, pair.value as Node | null, where, out);
  }
}

function visitPair(ctx: WalkContext, path: string, node: Node | null, where: string, out: RawValue[]): void {
  const value = node !== null && isAlias(node) ? ctx.yaml.resolveAlias(node) : node;
  if (node !== null && isAlias(node) && value === undefined) {
    ctx.problems.add(
      path,
      `alias *${node.source} refers to no anchor before it (a cron spec must be quoted)`,
      where,
    );
    return;
  }
  const field = ctx.index.byKey.get(path)?.field;
  if (field) {
    const raw = leafValue(ctx, path, value ?? null, where, field.kind);
    if (raw !== undefined) out.push({ key: path, raw: raw.value, source: 'file', where });
  } else if (ctx.index.groups.has(path)) {
    if (value === null || (isScalar(value) && value.value === null)) return;
    if (isMap(value)) walkMap(ctx, value, path, out);
    else ctx.problems.add(path, `must be a mapping of keys, got ${shape(value ?? null)}`, where);
  } else {
    ctx.problems.add(path, unknownKeyMessage(ctx.index, path, value ?? null), where);
  }
}

/** The raw value of a leaf; undefined when a problem was added instead. */
function leafValue(
  ctx: WalkContext,
  path: string,
  node: Node | null,
  where: string,
  kind: string,
): { value: unknown } | undefined {
  if (node === null || (isScalar(node) && node.value === null)) {
    if (kind === 'string') return { value: '' };
    if (kind === 'list of strings') return { value: [] };
    ctx.problems.add(path, 'has no value; give one or remove the key to use the default', where);
    return undefined;
  }
  if (isSeq(node)) {
    const items: unknown[] = [];
    for (const item of node.items as (Node | null)[]) {
      const r = scalarValue(
        ctx,
        path,
        item !== null && isAlias(item) ? ctx.yaml.resolveAlias(item) : item,
        where,
      );
      if (r === undefined) return undefined;
      items.push(r.value);
    }
    return { value: items };
  }
  return scalarValue(ctx, path, node, where);
}

function scalarValue(
  ctx: WalkContext,
  path: string,
  node: Node | null | undefined,
  where: string,
): { value: unknown } | undefined {
  if (node === null || node === undefined) return { value: null };
  if (isMap(node)) return { value: {} };
  if (isSeq(node)) return { value: [] };
  if (!isScalar(node)) return { value: null };
  if (typeof node.value !== 'string') return { value: node.value };
  const r = expandVars(node.value, ctx.env);
  if ('problem' in r) {
    ctx.problems.add(path, r.problem, where);
    return undefined;
  }
  return { value: r.value };
}

function unknownKeyMessage(index: KeyIndex, path: string, value: Node | null): string {
  const parts = path.split('.');
  const suggestion =
    suggestFromChildren(index, path, value) ?? suggestKey(path, [...index.byKey.keys(), ...index.groups]);
  if (parts[0] === 'watcher' && parts.length === 2) {
    return `unknown watcher "${parts[1]}" (known: ${[...index.watcherNames].sort().join(', ')})${didYouMean(suggestion)}`;
  }
  return `unknown key${didYouMean(suggestion)}`;
}

/** For an unknown group (`watcher.counter:`), the known group whose keys its children match. */
function suggestFromChildren(index: KeyIndex, path: string, value: Node | null): string | undefined {
  if (value === null || !isMap(value)) return undefined;
  const depth = path.split('.').length;
  const known = [...index.byKey.keys()];
  for (const pair of value.items) {
    const child = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (child === undefined) continue;
    const s = suggestKey(`${path}.${child}`, known);
    if (s !== undefined && s.split('.').length === depth + 1) return s.split('.').slice(0, depth).join('.');
  }
  return undefined;
}

function shape(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node))
    return node.value === null ? 'null' : `${typeof node.value} ${clip(JSON.stringify(node.value))}`;
  return 'an alias';
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
