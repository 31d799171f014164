/**
 * Dependencies point inward (cmd -> app -> server -> scheduler/lock/registry), checked twice:
 *
 * - files: no module imports itself through a chain;
 * - packages: a folder is a package, and no package imports itself through other packages. A folder
 *   that holds packages of its own (`internal/watcher/`, `internal/watcher/watcher/`) is the layer
 *   that wires them together and keeps their shared types (`config.ts`, `errors.ts`,
 *   `registry.ts`): each of its loose files counts as a package of one, so that a subpackage may use
 *   `errors.ts` but a cycle through `config.ts` or `server.ts` is still refused.
 *
 * `all.ts` is exempt: it exists to import every watcher for its side effect. Type-only imports count:
 * they still couple modules. Every cycle found is listed with the imports that make it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT, sourceFiles } from '../helpers/sources.js';

const EXEMPT = new Set(['internal/watcher/watcher/all.ts']);

/** Directed graph: node -> the nodes it imports, each with one import (`a.ts -> b.ts`) as evidence. */
type Graph = Map<string, Map<string, string>>;

/** Relative imports of a file, as paths relative to the root. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\s+['"](\.[^'"]+)['"]/g,
  )) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(relative(ROOT, resolve(ROOT, dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

/** The import graph of `files`, with each file mapped to its node by `nodeOf`. */
function importGraph(files: readonly string[], nodeOf: (file: string) => string): Graph {
  const known = new Set(files);
  const graph: Graph = new Map();
  for (const f of files) {
    const from = nodeOf(f);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    if (EXEMPT.has(f)) continue;
    for (const target of imports(f).filter((i) => known.has(i))) {
      const to = nodeOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${f} -> ${target}`);
    }
  }
  return graph;
}

/** The strongly connected components with more than one node (each holds at least one cycle). */
function cyclicComponents(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** One line per edge inside each component: `a -> b (a/x.ts -> b/y.ts)`. */
function describe(graph: Graph, components: string[][]): string {
  return components
    .map((members, i) => {
      const inside = new Set(members);
      const edges = members.flatMap((from) =>
        [...(graph.get(from) ?? [])]
          .filter(([to]) => inside.has(to))
          .map(([to, evidence]) => `    ${from} -> ${to}   (${evidence})`),
      );
      return `  cycle ${i + 1}: ${members.join(', ')}\n${edges.join('\n')}`;
    })
    .join('\n');
}

const FILES = [...sourceFiles(join(ROOT, 'cmd')), ...sourceFiles(join(ROOT, 'internal'))];

/** A folder's package node, or the file itself when its folder also holds packages. */
function packageOf(file: string): string {
  const dir = dirname(file);
  return FILES.some((f) => dirname(f).startsWith(`${dir}/`)) ? file : `${dir}/`;
}

test('no import cycles between files in cmd/ and internal/ (all.ts excepted)', () => {
  assert.ok(FILES.length > 20, `found only ${FILES.length} sources`);
  const graph = importGraph(FILES, (f) => f);
  const cycles = cyclicComponents(graph);
  assert.equal(cycles.length, 0, `import cycles between files:\n${describe(graph, cycles)}`);
});

test('no import cycles between packages (folders) in cmd/ and internal/ (all.ts excepted)', () => {
  const graph = importGraph(FILES, packageOf);
  assert.ok(graph.has('internal/watcher/options/') && graph.has('internal/watcher/config.ts'));
  const cycles = cyclicComponents(graph);
  assert.equal(cycles.length, 0, `import cycles between packages:\n${describe(graph, cycles)}`);
});

test('the cycle finder finds planted cycles and nothing else', () => {
  const g = (edges: Record<string, string[]>): Graph =>
    new Map(Object.entries(edges).map(([k, vs]) => [k, new Map(vs.map((v) => [v, `${k}>${v}`]))]));
  assert.deepEqual(cyclicComponents(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'], e: ['f'], f: ['e'] })), [
    ['a', 'b', 'c'],
    ['e', 'f'],
  ]);
  assert.deepEqual(cyclicComponents(g({ a: ['b'], b: [], c: ['a', 'b'] })), []);
});
