/**
 * Faults on a cluster of spawned daemons (issue 3, "Tests"): a run longer than the lease keeps it and
 * a SIGKILLed holder frees the watcher within `lock.lease`; Redis stopped for 10 s and started again;
 * SIGTERM during a long run. Outcomes are read from the daemons' JSON logs, /metrics and exit codes.
 */
import { RECONNECT_MAX_MS } from '../../internal/pkg/redis/redis.js';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import {
  Instance,
  RedisServer,
  deleteKeys,
  saveLogs,
  sleep,
  startAll,
  type LogLine,
  type ProbeConfig,
} from '../helpers/cluster.js';

const SECOND = 1000;
const run = randomBytes(4).toString('hex');
let seq = 0;

before(() => requireBuild());

function freshPrefix(): string {
  seq += 1;
  return `iamw-e2e-faults-${run}-${seq}`;
}

/** Kills whatever still runs and deletes the test's keys; keeps the logs of a failed test. */
async function cleanUp(
  t: { diagnostic(msg: string): void },
  instances: readonly Instance[],
  prefix: string,
  failed: boolean,
  redisPort = 6379,
): Promise<void> {
  for (const i of instances) i.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.daemon.exited));
  await deleteKeys(prefix, redisPort).catch(() => undefined);
  if (failed) t.diagnostic(`daemon logs kept in ${saveLogs(instances)}`);
}

const ms = (l: LogLine): number => Date.parse(String(l.time));

test('a run longer than the lease keeps it; SIGKILL of its holder frees the watcher within the lease', async (t) => {
  const prefix = freshPrefix();
  const config = (id: string): { config: ProbeConfig } => ({
    config: { instanceId: id, keyPrefix: prefix, lease: '2s', sleepMs: 7000 },
  });
  const instances = await startAll([config('a'), config('b'), config('c')]);
  let failed = true;
  try {
    // 1. A 7 s run under a 2 s lease ends ok; its lease was extended, never lost.
    const isProbe = (event: string) => (l: LogLine) => l.event === event && l.watcher === 'probe';
    const first = await Promise.any(instances.map((i) => i.waitFor(isProbe('run.finished'), 20_000)));
    assert.equal(first.result, 'ok', JSON.stringify(first));
    assert.ok(Number(first.durationMs) >= 7000, JSON.stringify(first));
    const overlaps = instances.flatMap((i) => i.probe('run.skipped')).filter((l) => l.reason === 'overlap');
    t.diagnostic(
      `first run: ${Number(first.durationMs)} ms on ${String(first.instance)}, ${overlaps.length} slots skipped as overlap meanwhile`,
    );
    assert.ok(overlaps.length >= 5, 'the slots during the 7 s run are skipped as overlap');

    // 2. The next run starts; 3 s in (more than the lease), its instance is SIGKILLed.
    const firstEnd = ms(first);
    const nextStarted = await Promise.any(
      instances.map((i) =>
        i.waitFor((l) => isProbe('run.started')(l) && ms(l) > firstEnd, 5000).then(() => i),
      ),
    );
    const startLine = nextStarted.probe('run.started').find((l) => ms(l) > firstEnd)!;
    await sleep(Math.max(0, ms(startLine) + 3000 - Date.now()));
    nextStarted.kill('SIGKILL');
    const killedAt = Date.now();
    await nextStarted.daemon.exited;
    const others = instances.filter((i) => i !== nextStarted);
    const takeover = await Promise.any(
      others.map((i) => i.waitFor((l) => isProbe('run.started')(l) && ms(l) > killedAt, 10_000)),
    );
    const delay = ms(takeover) - killedAt;
    t.diagnostic(
      `killed ${nextStarted.name} 3 s into its run; ${String(takeover.instance)} started slot ` +
        `${String(takeover.slot)} ${delay} ms later (lease 2000 ms, slots every 1000 ms)`,
    );
    // The lease ends at most 2 s after the holder's last extension; the next slot after that runs.
    assert.ok(delay <= 2000 + 1000 + 250, `takeover after ${delay} ms`);
    assert.ok(
      Date.parse(String(takeover.slot)) - killedAt <= 2000 + 1000,
      'the slot right after the lease ended',
    );

    // 3. Nobody ever lost a lease, and no slot ran twice.
    const lost = [...others, nextStarted].flatMap((i) => i.lines('lease.lost'));
    assert.deepEqual(lost, []);
    const slots = instances.flatMap((i) => i.probe('run.started')).map((l) => String(l.slot));
    assert.equal(new Set(slots).size, slots.length, `a slot started twice: ${slots.join(' ')}`);
    const exits = await Promise.all(others.map((i) => i.stop()));
    for (const e of exits) assert.equal(e.code, 0);
    failed = false;
  } finally {
    await cleanUp(t, instances, prefix, failed);
  }
});

/** Reads a counter from an instance's /metrics, summed over the series that match `labels`. */
async function counter(i: Instance, name: string, labels: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${i.healthPort}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('Redis stopped for 10 s and started again: no crash, skipped slots counted, runs resume', async (t) => {
  const redis = await RedisServer.start();
  const prefix = freshPrefix();
  const config = (id: string): { config: ProbeConfig } => ({
    config: { instanceId: id, keyPrefix: prefix, redisPort: redis.port },
  });
  const instances = await startAll([config('a'), config('b')]);
  let failed = true;
  try {
    await Promise.any(instances.map((i) => i.waitFor((l) => l.event === 'run.finished', 5000)));
    await sleep(2000);
    await redis.halt();
    const downAt = Date.now();
    await sleep(10 * SECOND);
    await redis.resume();
    const upAt = Date.now();
    const resumed = await Promise.any(
      instances.map((i) =>
        i.waitFor((l) => l.event === 'run.finished' && l.watcher === 'probe' && ms(l) > upAt, 10_000),
      ),
    );
    const resumeMs = ms(resumed) - upAt;
    await sleep(2000);

    for (const i of instances) assert.ok(!i.exited, `${i.name} exited: ${i.daemon.stderr}`);
    const skipped = instances
      .flatMap((i) => i.probe('run.skipped'))
      .filter((l) => l.reason === 'backend-unavailable');
    const metric = (
      await Promise.all(
        instances.map((i) => counter(i, 'iam_watcher_slots_skipped_total', 'reason="backend-unavailable"')),
      )
    ).reduce((a, b) => a + b, 0);
    const ranDuring = instances
      .flatMap((i) => i.probe('run.finished'))
      .filter((l) => ms(l) > downAt + 100 && ms(l) < upAt);
    const outage = instances.map((i) => i.lines('backend.unavailable').length);
    t.diagnostic(
      `down ${upAt - downAt} ms: ${skipped.length} run.skipped backend-unavailable lines, metric sum ${metric}, ` +
        `outage logged ${JSON.stringify(outage)} times per instance; first run ${resumeMs} ms after Redis returned`,
    );
    assert.deepEqual(ranDuring, [], 'no slot runs without a claim');
    // Both instances skip (and count) each of the ~10 slots of the outage.
    assert.ok(skipped.length >= 2 * 8, `${skipped.length} skipped`);
    assert.equal(metric, skipped.length, 'the metric counts what the logs say');
    assert.ok(
      outage.every((n) => n === 1),
      `the outage is logged once per instance: ${JSON.stringify(outage)}`,
    );
    // Within one slot: the client retries every RECONNECT_MAX_MS at most, then the next 1-s slot runs
    // (the probe's run takes no time here; 300 ms of slack for a loaded machine).
    assert.ok(
      resumeMs <= RECONNECT_MAX_MS + 1000 + 300,
      `runs resumed ${resumeMs} ms after Redis returned (one slot is 1000 ms)`,
    );
    const exits = await Promise.all(instances.map((i) => i.stop()));
    for (const e of exits) assert.equal(e.code, 0);
    for (const i of instances) assert.doesNotMatch(i.daemon.stderr, /unhandled|Error/i);
    failed = false;
  } finally {
    await cleanUp(t, instances, prefix, failed, redis.port);
    await redis.halt();
  }
});

test('SIGTERM during a long run: the run sees the abort, the daemon exits 0 before shutdown-timeout', async (t) => {
  const prefix = freshPrefix();
  const [i] = await startAll([
    { config: { instanceId: 'a', keyPrefix: prefix, sleepMs: 60_000, shutdownTimeout: '20s' } },
  ]);
  let failed = true;
  try {
    const started = await i!.waitFor((l) => l.event === 'run.started' && l.watcher === 'probe', 5000);
    await sleep(500);
    const t0 = Date.now();
    const exit = await i!.stop(25_000);
    const stopMs = Date.now() - t0;
    const finished = i!.probe('run.finished');
    t.diagnostic(`exit ${exit.code} ${stopMs} ms after SIGTERM; run.finished: ${JSON.stringify(finished)}`);
    assert.equal(exit.code, 0, i!.daemon.stderr);
    assert.ok(stopMs < 5000, `took ${stopMs} ms (shutdown-timeout 20 s)`);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.result, 'aborted');
    assert.equal(finished[0]!.slot, started.slot);
    assert.ok(Number(finished[0]!.durationMs) < 5000);
    const stopped = i!.lines('daemon.stopped');
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0]!.abandoned, 0);
    failed = false;
  } finally {
    await cleanUp(t, [i!], prefix, failed);
  }
});
