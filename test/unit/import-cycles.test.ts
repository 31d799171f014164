/**
 * Dependencies point inward (cmd -> app -> server -> scheduler/lock/registry): no module may import
 * itself through a chain. `all.ts` is exempt: it exists to import every watcher for its side effect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const EXEMPT = new Set(['internal/watcher/watcher/all.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (type-only imports included: they still couple modules). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\s+['"](\.[^'"]+)['"]/g,
  )) {
    const spec = m[1] ?? m[2];
    if (spec) out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'active') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('no import cycles in cmd/ and internal/ (all.ts excepted)', () => {
  const files = [...sources(join(ROOT, 'cmd')), ...sources(join(ROOT, 'internal'))];
  assert.ok(files.length > 20, `found only ${files.length} sources`);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const rel = relative(ROOT, f);
    graph.set(f, EXEMPT.has(rel) ? [] : imports(f).filter((i) => files.includes(i)));
  }
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.map((f) => relative(ROOT, f)).join(' -> ')}`);
});

test('the cycle finder finds a planted cycle', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
  ]);
  assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  assert.equal(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    undefined,
  );
});
