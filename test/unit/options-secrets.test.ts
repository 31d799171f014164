/**
 * A watcher option declared secret under a name other than `password` (`api-token`) never shows:
 * not in the daemon's log (by its key, or by its value in a message, an error or a whole config),
 * not in `validate`, not in a problem naming the key, not as a `--help` default, not in `status`.
 */
import { loadFromFlags } from '../helpers/load-config.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry, register, type Watcher } from '../../internal/watcher/watcher/registry.js';
import { stringField } from '../../internal/watcher/options/fields.js';
import { secretValues } from '../../internal/watcher/options/index.js';
import { createLocalCoordinator } from '../../internal/watcher/lock/index.js';
import { readStatus } from '../../internal/watcher/status.js';
import { renderStatus } from '../../internal/watcher/status-format.js';
import { createDaemonLogger } from '../../internal/watcher/logging.js';
import { runApp } from '../../internal/watcher/app.js';
import { Secrets } from '../../internal/pkg/censor/censor.js';
import { flushLogs } from '../../internal/pkg/log/log.js';

const TOKEN = 'tok-Live-4711';
const DEFAULT_TOKEN = 'tok-Default-0815';

const vault: Watcher<{ apiToken: string }> = {
  name: 'vault',
  description: 'test watcher with a secret option',
  schedule: '@every 1m',
  enabledByDefault: true,
  options: {
    apiToken: stringField({
      default: DEFAULT_TOKEN,
      doc: 'Token of the vault API.',
      secret: true,
      check: (v) => (v.startsWith('tok-') ? undefined : `must start with tok-, got ${JSON.stringify(v)}`),
    }),
  },
  run: () => Promise.resolve(),
};
register(vault);
const watchers = defaultRegistry.list();

const load = (flags: Record<string, string>) => loadFromFlags(watchers, flags);

/** Runs the CLI in this process; returns what it printed. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runApp(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    cwd: '/',
    signals: new EventEmitter(),
    forceExit: () => undefined,
  });
  return { code, stdout, stderr };
}

void describe('a watcher secret named api-token', () => {
  void it("is censored in the daemon's log: by key, in messages and errors, in a whole config", () => {
    const dir = mkdtempSync(join(tmpdir(), 'iamw-secrets-'));
    try {
      const file = join(dir, 'daemon.log');
      const config = load({ 'watcher.vault.api-token': TOKEN, 'log.output-paths': file });
      const logger = createDaemonLogger(config, watchers, new Secrets());
      const child = logger.child({ watcher: 'vault' });
      child.info({ options: config.watchers.vault?.options }, 'options');
      child.info({ 'api-token': 'tok-not-the-configured-one' }, 'by key');
      child.error({ err: new Error(`401 for ${TOKEN}`) }, `run of watcher "vault" failed: 401 for ${TOKEN}`);
      logger.info({ config }, 'the whole config');
      flushLogs();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 4);
      for (const line of lines) {
        assert.ok(!line.includes(TOKEN) && !line.includes('tok-not'), line);
        assert.ok(line.includes('"***"') || line.includes('***'), line);
      }
      const options = JSON.parse(lines[0]!) as { options: { apiToken: string } };
      assert.equal(options.options.apiToken, '***');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('shows as *** in validate, and as the --help default', async () => {
    const validate = await cli(['validate', '--watcher.vault.api-token', TOKEN]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /api-token: "\*\*\*"/);
    assert.ok(!(validate.stdout + validate.stderr).includes(TOKEN));

    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /--watcher\.vault\.api-token <secret>\s+Token of the vault API\.\s+\(default: \*\*\*\)/,
    );
    assert.ok(!help.stdout.includes(DEFAULT_TOKEN));
  });

  void it('is censored in a problem that names its key, exit 2', async () => {
    const bad = 'Bad-Token-xyz';
    const r = await cli(['validate', '--watcher.vault.api-token', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /watcher\.vault\.api-token: must start with tok-, got "\*\*\*"/);
    assert.ok(!(r.stdout + r.stderr).includes(bad));
  });

  void it("is censored in status, where a last run's error quotes it", async () => {
    const config = load({ 'watcher.vault.api-token': TOKEN, 'watcher.task.enabled': 'false' });
    const c = createLocalCoordinator({ instanceId: 'a-1' });
    await c.recordRun({
      watcher: 'vault',
      slotMs: Date.parse('2025-03-01T10:00:00Z'),
      instance: 'b-2',
      result: 'failed',
      startedMs: Date.parse('2025-03-01T10:00:00Z'),
      durationMs: 5,
      counts: {},
      error: `401 for ${TOKEN}`,
    });
    const s = await readStatus(c, config, watchers, Date.parse('2025-03-01T10:00:30Z'));
    const secrets = new Secrets(secretValues(config, watchers));
    for (const json of [false, true]) {
      const text = renderStatus(s, json, secrets);
      assert.ok(text.includes('401 for ***'), text);
      assert.ok(!text.includes(TOKEN), text);
    }
    await c.close();
  });
});
