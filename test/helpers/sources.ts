/** The project's TypeScript sources, for tests that read the code itself (import cycles, errors). */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** The repository's root folder. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** Every `.ts` file below `dir` (absolute), as a path relative to {@link ROOT}. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [relative(ROOT, p)] : [];
  });
}
