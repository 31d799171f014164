/** The daemon's version, read once from package.json. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'iam-watcher' && pkg.version) return pkg.version;
    } catch {
      // not at this depth (sources vs. dist): try the next
    }
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();
