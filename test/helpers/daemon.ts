/**
 * Runs the built CLI as a user would (`node dist/cmd/iam-watcher/main.js ...`) and reads what it
 * prints. Used by the e2e tests; `make test` builds first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cmd/iam-watcher/main.js');

/** Fails early with a useful message when the build is missing. */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (make test does)`);
}

/** Environment for a child: the parent's, minus IAM_WATCHER_* (tests set what they need). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IAM_WATCHER_')) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI to completion. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** A temporary directory for one test. */
export function tempDir(prefix = 'iamw-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a YAML config file and returns its path. */
export function writeConfig(dir: string, yaml: string, name = 'iam-watcher.yaml'): string {
  const p = join(dir, name);
  writeFileSync(p, yaml);
  return p;
}

/** A spawned daemon whose output is collected line by line. */
export class Daemon {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /**
   * @param opts.wrap a command to run node under (e.g. `['faketime', '-f', '+2s']`)
   * @param opts.script node arguments instead of the built CLI (e.g. `['--import', 'tsx', 'x.ts']`)
   */
  constructor(
    args: string[],
    opts: { env?: Record<string, string>; cwd?: string; wrap?: string[]; script?: string[] } = {},
  ) {
    const cmd = opts.wrap ? opts.wrap[0]! : process.execPath;
    const node = [...(opts.script ?? [CLI]), ...args];
    const argv = opts.wrap ? [...opts.wrap.slice(1), process.execPath, ...node] : node;
    this.child = spawn(cmd, argv, {
      cwd: opts.cwd ?? ROOT,
      env: cleanEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((res) => this.child.once('exit', (code, signal) => res({ code, signal })));
  }

  /** JSON log lines printed so far (non-JSON lines are skipped). */
  lines(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** Waits for a log line matching `pred`, or fails after `timeoutMs` with the output so far. */
  async waitFor(
    pred: (line: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(
          `no matching log line within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** Polls `url` until it answers 200 or the deadline passes; returns the body. */
export async function waitHttp(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === 200) return { status: res.status, body };
      last = `${res.status} ${body}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${url} not answering 200 within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
