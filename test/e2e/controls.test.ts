/**
 * Operator controls across spawned daemons (issue 15, items 1-4): `pause` stops a watcher on every
 * replica (also one restarted meanwhile) until `resume`; `trigger` runs it once on one replica, is
 * refused while a run goes (overlap skip) and fails fast with no daemon; `history` holds the newest
 * 100 of 150 runs with the results of the logs and no password; `timeout` and `retry` end up in it.
 *
 * The daemons and the CLI run test/fixtures/probe-daemon.ts (the real app plus the `probe` and
 * `soakNN` test watchers). The history replica starts first and runs its 150 one-second slots
 * while the other tests run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  PROBE_DAEMON,
  cleanUpCluster as cleanUp,
  deleteKeys,
  saveLogs,
  sleep,
  startAll,
  untilMidSecond,
  writeClusterConfig,
  type ClusterConfig,
  type Instance,
  type LogLine,
  type SpawnOptions,
} from '../helpers/cluster.js';
import { ROOT, cleanEnv, runCli } from '../helpers/daemon.js';

const SECOND = 1000;
const YEARLY = '0 0 0 1 1 *';
const run = randomBytes(4).toString('hex');
const PASSWORD = `Pw-${randomBytes(6).toString('hex')}`;
const SOAK = { env: { PROBE_SOAK_WATCHERS: '1' } };
let seq = 0;

function freshPrefix(): string {
  seq += 1;
  return `iamw-e2e-controls-${run}-${seq}`;
}

/** The CLI (the probe fixture, so it knows the test watchers), asynchronously: daemons keep logging. */
function cli(
  file: string,
  args: string[],
  env: Record<string, string> = SOAK.env,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', PROBE_DAEMON, ...args, '-c', file], {
      cwd: ROOT,
      env: cleanEnv(env),
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** Every `run.finished` line of a watcher across instances. */
function finished(instances: readonly Instance[], watcher = 'probe'): LogLine[] {
  return instances.flatMap((i) => i.lines('run.finished', watcher));
}

async function metrics(i: Instance): Promise<string> {
  return (await fetch(`http://127.0.0.1:${i.healthPort}/metrics`)).text();
}

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no series ${series}`);
  return Number(line.split(' ')[1]);
}

async function until(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs `body` with instances started from `configs`; cleans up whatever happens. */
async function withCluster(
  t: { diagnostic(msg: string): void },
  configs: ReadonlyArray<{ config: ClusterConfig; opts?: SpawnOptions }>,
  body: (instances: Instance[]) => Promise<void>,
): Promise<void> {
  const instances = await startAll(configs);
  let failed = true;
  try {
    await body(instances);
    failed = false;
  } finally {
    await cleanUp(t, instances, configs[0]?.config.keyPrefix ?? '', failed);
  }
}

// The history replica: 150 one-second slots, every seventh failing with the password in its error.
const historyPrefix = freshPrefix();
let historyReplica: Instance[] = [];
before(async () => {
  historyReplica = await startAll([
    {
      config: {
        instanceId: 'hist',
        keyPrefix: historyPrefix,
        logLevel: 'info',
        watchers: { probe: { schedule: '@every 1s', 'fail-every': 7, password: PASSWORD } },
      },
    },
  ]);
});
after(async () => {
  for (const i of historyReplica) i.kill('SIGKILL');
  await Promise.all(historyReplica.map((i) => i.daemon.exited));
  await deleteKeys(historyPrefix);
});

void test('pause: no run on any of 3 replicas (one restarted) for 5+ slots, each counted paused; resume runs the next slot once', async (t) => {
  const prefix = freshPrefix();
  const configs = ['a', 'b', 'c'].map((n) => ({
    config: {
      instanceId: n,
      keyPrefix: prefix,
      watchers: { probe: { schedule: '@every 1s', 'sleep-ms': 100 } },
    },
  }));
  await withCluster(t, configs, async (cluster) => {
    const instances = [...cluster];
    await sleep(2 * SECOND);
    await untilMidSecond();
    const paused = await cli(instances[0]!.file, ['pause', 'probe', '--note', 'bad disables at 3am'], {});
    assert.equal(paused.code, 0, paused.stderr);
    const pausedAtMs = Date.now();
    // Seen within a second: no slot from one second after the pause runs anywhere.
    const firstPaused = Math.ceil((pausedAtMs + SECOND) / SECOND) * SECOND;

    // A replica restarted during the pause stays paused.
    const old = instances[0]!;
    assert.equal((await old.stop()).code, 0);
    const restarted = old.restart();
    instances[0] = restarted;
    cluster.push(restarted);
    await restarted.started();
    await until(
      'paused slots on the restarted replica',
      () => restarted.probe('run.skipped').filter((l) => l.reason === 'paused').length >= 2,
      15 * SECOND,
    );
    await until('5 paused slots', () => Date.now() > firstPaused + 5 * SECOND, 20 * SECOND);

    const status = JSON.parse((await cli(instances[1]!.file, ['status', '--json'], {})).stdout) as {
      watchers: Array<{ watcher: string; paused: { note: string } | null }>;
    };
    assert.equal(status.watchers.find((w) => w.watcher === 'probe')?.paused?.note, 'bad disables at 3am');
    const list = await cli(instances[1]!.file, ['list'], {});
    assert.match(list.stdout, /paused since .*: bad disables at 3am/);
    const m = await metrics(instances[1]!);
    assert.equal(metric(m, 'iam_watcher_paused{watcher="probe"}'), 1);
    assert.ok(metric(m, 'iam_watcher_slots_skipped_total{watcher="probe",reason="paused"}') >= 5);
    assert.equal(metric(m, 'iam_watcher_slots_missed_total{watcher="probe"}'), 0);

    const resumed = await cli(instances[2]!.file, ['resume', 'probe'], {});
    assert.equal(resumed.code, 0, resumed.stderr);
    const resumedAtMs = Date.now();
    const pausedSlots: number[] = [];
    for (let s = firstPaused; s < resumedAtMs - SECOND; s += SECOND) pausedSlots.push(s);
    assert.ok(pausedSlots.length >= 5, `only ${pausedSlots.length} slots paused`);
    const ran = new Set(finished(cluster).map((l) => Date.parse(String(l.slot))));
    const skipped = cluster.flatMap((i) => i.probe('run.skipped')).filter((l) => l.reason === 'paused');
    for (const s of pausedSlots) {
      assert.ok(!ran.has(s), `slot ${new Date(s).toISOString()} ran while paused`);
      assert.ok(
        skipped.some((l) => Date.parse(String(l.slot)) === s),
        `slot ${new Date(s).toISOString()} not counted as paused`,
      );
    }
    assert.equal(restarted.probe('run.finished').length, 0, 'the restarted replica ran the paused watcher');
    assert.ok(
      cluster.every((i) => i.lines('slot.missed').length === 0),
      'paused slots were counted as missed',
    );

    const next = Math.ceil((resumedAtMs + SECOND) / SECOND) * SECOND;
    await until('the slot after resume', () => Date.now() > next + 2 * SECOND, 10 * SECOND);
    const runsOfNext = finished(instances).filter((l) => Date.parse(String(l.slot)) === next);
    assert.equal(runsOfNext.length, 1, `slot ${new Date(next).toISOString()} ran ${runsOfNext.length} times`);
    assert.equal(runsOfNext[0]?.result, 'ok');
    assert.ok(instances.every((i) => i.lines('watcher.resumed', 'probe').length === 1));
  });
});

void test('trigger: one run on one of 3 replicas; refused while a run goes (skip); pause --abort aborts it; exit 1 fast with no daemon', async (t) => {
  const prefix = freshPrefix();
  const watchers = {
    probe: { schedule: YEARLY, 'sleep-ms': 300 },
    soak01: { schedule: YEARLY, 'sleep-ms': 20_000, overlap: 'skip' },
  };
  const configs = ['a', 'b', 'c'].map((n) => ({
    config: { instanceId: n, keyPrefix: prefix, watchers },
    opts: SOAK,
  }));
  let file = '';
  await withCluster(t, configs, async (instances) => {
    file = instances[0]!.file;
    const r = await cli(file, ['trigger', 'probe']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
      result: string;
      instance: string;
      durationMs: number;
    };
    assert.equal(out.result, 'ok');
    assert.ok(out.durationMs >= 250, `durationMs ${out.durationMs}`);
    await sleep(500);
    const runs = finished(instances);
    assert.equal(runs.length, 1, `${runs.length} runs`);
    assert.equal(runs[0]?.instance, out.instance);
    assert.equal(runs[0]?.manual, true);

    const started = await cli(file, ['trigger', 'soak01', '--no-wait']);
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /"state":"accepted"/);
    await sleep(500);
    const refused = await cli(file, ['trigger', 'soak01']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /refused .*running on another instance/);

    const abort = await cli(file, ['pause', 'soak01', '--abort', '--note', 'stop it']);
    assert.equal(abort.code, 0, abort.stderr);
    const pausedAtMs = Date.now();
    await until('the aborted run', () => finished(instances, 'soak01').length > 0, 5 * SECOND);
    const soakRuns = finished(instances, 'soak01');
    assert.equal(soakRuns.length, 1);
    assert.equal(soakRuns[0]?.result, 'aborted');
    assert.ok(Number(soakRuns[0]?.durationMs) < 20_000, 'the run was not cut short');
    const endedAtMs = instances
      .flatMap((i) => i.received)
      .find((r) => r.line.event === 'run.finished' && r.line.watcher === 'soak01')!.atMs;
    assert.ok(endedAtMs - pausedAtMs < 3 * SECOND, `aborted ${endedAtMs - pausedAtMs} ms after the pause`);
  });
  // Every daemon stopped: the built CLI (the operator's, whose start-up is part of the 5 s) on the
  // same cluster config with the real `clean` watcher.
  const { file: cleanConfig } = await writeClusterConfig({
    instanceId: 'cli',
    keyPrefix: prefix,
    watchers: { clean: {} },
  });
  const none = runCli(['trigger', 'clean', '-c', cleanConfig]);
  assert.equal(none.code, 1, none.stdout + none.stderr);
  assert.match(none.stdout, /no live replica/);
  assert.ok(none.ms < 5 * SECOND, `took ${Math.round(none.ms)} ms`);
  // With lock.backend local there is no shared state to act on: a usage error, said plainly.
  for (const cmd of [
    ['pause', 'clean'],
    ['resume', 'clean'],
    ['trigger', 'clean'],
    ['history', 'clean'],
  ]) {
    const local = runCli([...cmd, '-c', cleanConfig, '--lock.backend', 'local']);
    assert.equal(local.code, 2, `${cmd.join(' ')}: ${local.stdout}${local.stderr}`);
    assert.match(local.stderr, /through Redis; lock\.backend is local/);
  }
});

void test('timeout aborts a 10 s run at about 2 s (recorded timeout); retry runs a failing slot again, both attempts in history', async (t) => {
  const prefix = freshPrefix();
  const config: ClusterConfig = {
    instanceId: 'r',
    keyPrefix: prefix,
    watchers: {
      probe: { schedule: '@every 4s', 'fail-runs-per-slot': 1 },
      soak01: { schedule: YEARLY, 'sleep-ms': 10_000, timeout: '2s' },
    },
  };
  const env = {
    ...SOAK.env,
    IAM_WATCHER_WATCHER_PROBE_RETRY_ATTEMPTS: '2',
    IAM_WATCHER_WATCHER_PROBE_RETRY_BACKOFF: '500ms',
  };
  await withCluster(t, [{ config, opts: { env } }], async ([i]) => {
    const file = i!.file;
    const r = await cli(file, ['trigger', 'soak01'], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { result: string; durationMs: number };
    assert.equal(out.result, 'timeout');
    assert.ok(out.durationMs >= 1900 && out.durationMs < 4000, `timed out after ${out.durationMs} ms`);

    await until(
      'an ok second attempt',
      () => i!.probe('run.finished').some((l) => l.attempt === 2),
      15 * SECOND,
    );
    const second = i!.probe('run.finished').find((l) => l.attempt === 2)!;
    assert.equal(second.result, 'ok');
    const first = i!.probe('run.finished').find((l) => l.attempt === 1 && l.slot === second.slot);
    assert.equal(first?.result, 'failed');
    assert.ok(i!.probe('run.retrying').some((l) => l.slot === second.slot && l.attempt === 2));

    await sleep(300);
    const h = JSON.parse((await cli(file, ['history', 'probe', '--json'], env)).stdout) as Array<{
      slotMs: number;
      result: string;
      attempt?: number;
    }>;
    const ofSlot = h.filter((e) => e.slotMs === Date.parse(String(second.slot)));
    assert.deepEqual(
      ofSlot.map((e) => [e.attempt, e.result]),
      [
        [2, 'ok'],
        [1, 'failed'],
      ],
    );
    const hs = JSON.parse((await cli(file, ['history', 'soak01', '--json'], env)).stdout) as Array<{
      result: string;
    }>;
    assert.equal(hs[0]?.result, 'timeout');
    const status = JSON.parse((await cli(file, ['status', '--json'], env)).stdout) as {
      watchers: Array<{ watcher: string; failureStreak: number; lastRun: { result: string } }>;
    };
    const soak = status.watchers.find((w) => w.watcher === 'soak01');
    assert.equal(soak?.lastRun.result, 'timeout');
    assert.equal(soak?.failureStreak, 1);
  });
});

void test('history: after 150 runs, the newest 100, newest first, with the results of the logs and no password', async (t) => {
  const [h] = historyReplica;
  assert.ok(h);
  let failed = true;
  try {
    await until('150 runs', () => h.probe('run.finished').length >= 150, 240 * SECOND);
    const r = await cli(h.file, ['history', 'probe', '--limit', '500', '--json'], {});
    assert.equal(r.code, 0, r.stderr);
    const entries = JSON.parse(r.stdout) as Array<{
      slotMs: number;
      result: string;
      error?: string;
      instance: string;
    }>;
    assert.equal(entries.length, 100);
    const logged = new Map(h.probe('run.finished').map((l) => [Date.parse(String(l.slot)), l]));
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      if (k > 0) assert.ok(e.slotMs < entries[k - 1]!.slotMs, 'not newest first');
      const line = logged.get(e.slotMs);
      assert.ok(line, `history slot ${new Date(e.slotMs).toISOString()} not in the log`);
      assert.equal(e.result, line.result);
      assert.equal(e.instance, 'hist');
    }
    // The newest logged run is the newest entry (or finished after the read).
    const newestLogged = Math.max(...logged.keys());
    assert.ok(entries[0]!.slotMs >= newestLogged - 2 * SECOND);
    const failures = entries.filter((e) => e.result === 'failed');
    assert.ok(failures.length >= 10, `${failures.length} failures`);
    for (const f of failures) {
      assert.match(f.error ?? '', /probe failed on purpose .*password \*\*\*/);
      assert.ok(!(f.error ?? '').includes(PASSWORD));
    }
    const text = await cli(h.file, ['history', 'probe', '--limit', '20'], {});
    assert.equal(text.stdout.split('\n').filter((l) => /^\d{4}-/.test(l)).length, 20);
    assert.ok(!text.stdout.includes(PASSWORD));
    failed = false;
  } finally {
    if (failed) t.diagnostic(`daemon logs kept in ${saveLogs(historyReplica)}`);
  }
});
