/**
 * The files under deploy/ as their tools read them: the systemd unit through `systemd-analyze`, every
 * YAML file through the `yaml` parser, the Kubernetes, compose and Prometheus objects for the fields an
 * operator relies on, and the Dockerfile's entry command started by hand the way the image starts it.
 * No Docker engine or Kubernetes cluster runs here, so images are not built and manifests not applied.
 */
import { installerEnv } from '../helpers/go-config.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, delimiter, dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CLI, ROOT, cleanEnv, freePort, requireBuild, tempDir, waitHttp } from '../helpers/daemon.js';
import { createTestDatabase } from '../helpers/mysql.js';

const DEPLOY = join(ROOT, 'deploy');
const UNIT = join(DEPLOY, 'systemd/iam-watcher.service');
const DOCKERFILE = join(DEPLOY, 'docker/Dockerfile');
const COMPOSE = join(DEPLOY, 'docker/compose.yaml');
const K8S = join(DEPLOY, 'kubernetes');
const ALERTS = join(DEPLOY, 'prometheus/alerts.yaml');
/** The daemon's default shutdown-timeout: every stop deadline must be above it. */
const SHUTDOWN_TIMEOUT_S = 180;
const METRICS = new Set([
  'iam_watcher_runs_total',
  'iam_watcher_run_duration_seconds',
  'iam_watcher_slots_skipped_total',
  'iam_watcher_slots_missed_total',
  'iam_watcher_lease_lost_total',
  'iam_watcher_last_success_timestamp_seconds',
  'iam_watcher_previous_slot_timestamp_seconds',
  'iam_watcher_next_slot_timestamp_seconds',
  'iam_watcher_rows_affected_total',
  'iam_watcher_paused',
  'iam_watcher_webhook_posts_total',
  'iam_watcher_status_rows_total',
  'iam_watcher_status_handler_duration_seconds',
  'iam_watcher_status_rows_waiting',
  'iam_watcher_status_oldest_waiting_seconds',
]);

/** Temporary directories of this file, removed when it ends. */
const scratchDirs: string[] = [];
function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  scratchDirs.push(dir);
  return dir;
}
after(() => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------
// Small readers for the file formats involved.

// Parsed YAML is walked by field name; the assertions check the shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Every document of a YAML file as plain JS; fails on any parse error or warning. */
function loadYaml(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { prettyErrors: true });
  assert.ok(Array.isArray(docs), `${path}: not a YAML stream`);
  return docs.map((doc, i) => {
    const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
    assert.deepEqual(problems, [], `${relative(ROOT, path)} document ${i + 1}`);
    return doc.toJS() as unknown;
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A systemd unit as section -> key -> values (keys may repeat), with `\` continuations joined. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `unit line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** Seconds of a systemd/Go-style duration ("200", "200s", "3m20s", "3min 20s"). */
function seconds(value: string | number): number {
  if (typeof value === 'number') return value;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  const units: Record<string, number> = { h: 3600, min: 60, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|min|h|m|s)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  assert.ok(matched.replace(/\s/g, '') === value.replace(/\s/g, ''), `not a duration: ${value}`);
  return total;
}

interface Instruction {
  op: string;
  args: string;
}

/**
 * Dockerfile instructions (comments dropped, `\` continuations joined): `globals` before the first
 * FROM (global ARGs), then one list per stage, each starting with its FROM.
 */
function parseDockerfile(text: string): { globals: Instruction[]; stages: Instruction[][] } {
  const globals: Instruction[] = [];
  const stages: Instruction[][] = [];
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    if (ins.op === 'FROM') stages.push([]);
    (stages.at(-1) ?? globals).push(ins);
  }
  return { globals, stages };
}

function dockerStages(): Instruction[][] {
  return parseDockerfile(readFileSync(DOCKERFILE, 'utf8')).stages;
}

/** The JSON array of an exec-form instruction; fails on the shell form. */
function execForm(ins: Instruction | undefined, what: string): string[] {
  assert.ok(ins, `Dockerfile has no ${what}`);
  let parsed: unknown[];
  try {
    parsed = JSON.parse(ins.args) as unknown[];
  } catch {
    assert.fail(`${what} is in shell form (${ins.args}); use a JSON array so signals reach Node`);
  }
  assert.ok(
    Array.isArray(parsed) && parsed.every((s) => typeof s === 'string'),
    `${what}: not a string array`,
  );
  return parsed;
}

function lastOf(stage: Instruction[], op: string): Instruction | undefined {
  return stage.filter((i) => i.op === op).at(-1);
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return {
    code: r.status,
    out: `${r.stdout ?? ''}${r.stderr ?? ''}`,
    stdout: r.stdout ?? '',
    error: r.error,
  };
}

// ---------------------------------------------------------------------------------------------------
// systemd

function systemdAnalyze(): string {
  const bin =
    which('systemd-analyze') ?? (existsSync('/usr/bin/systemd-analyze') ? '/usr/bin/systemd-analyze' : '');
  if (!bin) assert.fail('systemd-analyze is missing: run test/services/ensure.sh (installs Debian systemd)');
  return bin;
}

/**
 * A copy of the unit that can be verified on this machine: `verify` refuses an ExecStart binary
 * that does not exist, so Node and the install directory point at this checkout. `edit` breaks it.
 */
function localUnit(edit: (text: string) => string = (t) => t): string {
  const dir = scratch('iamw-unit-');
  const text = readFileSync(UNIT, 'utf8')
    .replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `)
    .replaceAll('/opt/iam-watcher', ROOT);
  const path = join(dir, basename(UNIT));
  writeFileSync(path, edit(text));
  return path;
}

/** `systemd-analyze verify`: exits 0 on many problems but prints them, so any line about the unit fails. */
function verifyUnit(path: string): string[] {
  const r = run(systemdAnalyze(), ['verify', '--man=no', path], { cwd: dirname(path) });
  assert.equal(r.error, undefined);
  const about = r.out.split('\n').filter((l) => l.includes(basename(path)));
  return r.code === 0 ? about : [`exit ${r.code}`, ...about];
}

void test('systemd unit: the directives an operator relies on', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const svc = unit.get('Service');
  assert.ok(svc, 'no [Service] section');
  const one = (k: string) => svc.get(k)?.at(-1);
  const yes = (k: string) => assert.match(one(k) ?? '', /^(yes|true|on|1)$/, `${k}=yes expected`);

  assert.equal(one('User'), 'iam-watcher');
  assert.equal(one('Restart'), 'always');
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.ok(seconds(one('TimeoutStopSec') ?? '0') > SHUTDOWN_TIMEOUT_S, 'TimeoutStopSec must exceed 3m');
  assert.match(
    one('ExecStart') ?? '',
    /^(\/usr\/bin\/node \/opt\/iam-watcher\/dist\/cmd\/iam-watcher\/main\.js|\/usr\/local\/bin\/iam-watcher) -c \/etc\/iam\/iam-watcher\.yaml$/,
  );
  assert.equal(one('EnvironmentFile'), '-/etc/iam/iam-watcher.env');
  assert.equal(one('ProtectSystem'), 'strict');
  for (const k of [
    'NoNewPrivileges',
    'ProtectHome',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'LockPersonality',
    'RestrictNamespaces',
  ]) {
    yes(k);
  }
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.match(one('RestrictAddressFamilies') ?? '', /AF_INET\b.*AF_INET6/);
  assert.match(one('SystemCallFilter') ?? '', /@system-service/);
  // V8's JIT needs writable-then-executable memory: with this on, Node cannot start.
  assert.doesNotMatch(one('MemoryDenyWriteExecute') ?? 'no', /^(yes|true|on|1)$/);
  assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
});

void test('systemd unit: systemd-analyze verify finds nothing, and does find a broken directive', () => {
  assert.deepEqual(verifyUnit(localUnit()), []);
  // The check must be able to fail: a bad value, a misspelt key and a missing binary are each reported.
  const broken: Array<[string, (t: string) => string]> = [
    ['bad value', (t) => t.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=strictest')],
    ['unknown key', (t) => t.replace(/^KillSignal=/m, 'KilSignal=')],
    ['missing binary', (t) => t.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node')],
  ];
  for (const [what, edit] of broken) {
    assert.notDeepEqual(verifyUnit(localUnit(edit)), [], `verify did not notice a ${what}`);
  }
});

void test('systemd unit: systemd-analyze security rates the sandbox OK or better', () => {
  const r = run(systemdAnalyze(), ['security', '--offline=yes', '--threshold=30', localUnit()]);
  // --threshold is on the 0-100 scale of the JSON output: 30 is "2.9 or less, OK" in the text output.
  assert.equal(r.code, 0, r.out);
  const level = /Overall exposure level for \S+: ([\d.]+)/.exec(r.out);
  assert.ok(level, r.out);
  assert.ok(Number(level[1]) <= 3, `exposure ${level[1]} > 3.0:\n${r.out}`);
});

// ---------------------------------------------------------------------------------------------------
// YAML, Kubernetes

void test('every YAML file under deploy/ parses', () => {
  const files = yamlFiles(DEPLOY);
  for (const want of [COMPOSE, ALERTS, join(K8S, 'deployment.yaml')]) assert.ok(files.includes(want), want);
  for (const f of files) {
    const docs = loadYaml(f);
    assert.ok(
      docs.length > 0 && docs.every((d) => d !== null && typeof d === 'object'),
      `${f}: empty document`,
    );
  }
});

function k8sObjects(): Obj[] {
  return readdirSync(K8S)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .flatMap((f) => loadYaml(join(K8S, f)) as Obj[]);
}

function byKind(objs: Obj[], kind: string): Obj {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `want exactly one ${kind}, found ${found.length}`);
  return found[0]!;
}

function selects(selector: Obj | undefined, labels: Obj): boolean {
  const want = (selector?.matchLabels ?? selector ?? {}) as Obj;
  return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => labels[k] === v);
}

void test('kubernetes: Deployment, probes, grace period, security, PDB, Service, Secret, ConfigMap', () => {
  const objs = k8sObjects();
  const dep = byKind(objs, 'Deployment');
  const pod = dep.spec.template.spec as Obj;
  const podLabels = dep.spec.template.metadata.labels as Obj;
  assert.equal(dep.spec.replicas, 2);
  assert.ok(selects(dep.spec.selector, podLabels), 'Deployment selector does not match its pods');
  assert.ok(pod.terminationGracePeriodSeconds > SHUTDOWN_TIMEOUT_S, 'terminationGracePeriodSeconds <= 180');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);

  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0] as Obj;
  const portOf = (p: string | number): unknown =>
    typeof p === 'number' ? p : (c.ports as Obj[]).find((x) => x.name === p)?.containerPort;
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(portOf(c.livenessProbe.httpGet.port), 5050);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(portOf(c.readinessProbe.httpGet.port), 5050);
  for (const kind of ['requests', 'limits']) {
    assert.ok(c.resources[kind].cpu && c.resources[kind].memory, `resources.${kind} needs cpu and memory`);
  }
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);

  const env = c.env as Obj[];
  const envIndex = (n: string) => env.findIndex((e) => e.name === n);
  assert.equal(env[envIndex('POD_NAME')]?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  assert.equal(env[envIndex('IAM_WATCHER_INSTANCE_ID')]?.value, '$(POD_NAME)');
  // $(VAR) only expands variables defined earlier in the list.
  assert.ok(envIndex('POD_NAME') < envIndex('IAM_WATCHER_INSTANCE_ID'));

  // Passwords come from the Secret, whose values are visibly placeholders.
  const secret = byKind(objs, 'Secret');
  const secretData = { ...(secret.stringData as Obj), ...(secret.data as Obj) };
  for (const name of ['IAM_WATCHER_MYSQL_PASSWORD', 'IAM_WATCHER_REDIS_PASSWORD']) {
    const ref = env[envIndex(name)]?.valueFrom?.secretKeyRef as Obj | undefined;
    assert.ok(ref && ref.name === secret.metadata.name, `${name} must come from the Secret`);
    assert.match(String(secretData[ref.key]), /REPLACE/, `${name}: placeholder value expected`);
  }

  // The ConfigMap is mounted where the args point, as a directory (subPath mounts miss updates).
  const cm = byKind(objs, 'ConfigMap');
  const vol = (pod.volumes as Obj[]).find((v) => v.configMap?.name === cm.metadata.name);
  assert.ok(vol, 'ConfigMap not mounted');
  const mount = (c.volumeMounts as Obj[]).find((m) => m.name === vol.name);
  assert.ok(mount && !mount.subPath);
  const args = c.args as string[];
  assert.equal(args[args.indexOf('-c') + 1], `${mount.mountPath}/iam-watcher.yaml`);
  assert.equal(typeof cm.data['iam-watcher.yaml'], 'string');

  const pdb = byKind(objs, 'PodDisruptionBudget');
  assert.ok(selects(pdb.spec.selector, podLabels), 'PDB does not select the pods');
  assert.ok(pdb.spec.minAvailable === 1 || pdb.spec.maxUnavailable === 1);

  const svc = byKind(objs, 'Service');
  assert.ok(selects(svc.spec.selector, podLabels), 'Service does not select the pods');
  const port = (svc.spec.ports as Obj[]).find((p) => p.port === 5050);
  assert.ok(port, 'Service has no port 5050');
  assert.equal(portOf(port.targetPort ?? 5050), 5050);
});

void test('kubernetes: kustomization lists every manifest and builds', (t) => {
  const [k] = loadYaml(join(K8S, 'kustomization.yaml')) as Obj[];
  const manifests = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
  assert.deepEqual([...(k!.resources as string[])].sort(), manifests.sort());
  const kubectl = which('kubectl');
  if (!kubectl) return t.skip('kubectl is not installed: `kubectl kustomize` not run');
  const r = run(kubectl, ['kustomize', K8S]);
  assert.equal(r.code, 0, r.out);
  const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Obj).kind as string);
  assert.deepEqual(kinds.sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
});

void test('kubernetes: the ConfigMap config file passes `iam-watcher validate` with the pod environment', () => {
  requireBuild();
  const cm = byKind(k8sObjects(), 'ConfigMap');
  const file = join(scratch('iamw-cm-'), 'iam-watcher.yaml');
  writeFileSync(file, cm.data['iam-watcher.yaml'] as string);
  const r = run(process.execPath, [CLI, 'validate', '-c', file], {
    env: {
      IAM_WATCHER_INSTANCE_ID: 'iam-watcher-7c9d8b6f5-x2k4q',
      IAM_WATCHER_MYSQL_PASSWORD: 'REPLACE-ME-mysql-password',
      IAM_WATCHER_REDIS_PASSWORD: 'REPLACE-ME-redis-password',
    },
  });
  assert.equal(r.code, 0, r.out);
});

// ---------------------------------------------------------------------------------------------------
// Compose

void test('compose: MariaDB with schema and grants, Redis, two watcher replicas, healthy dependencies', () => {
  const [compose] = loadYaml(COMPOSE) as Obj[];
  const services = compose!.services as Obj;
  const watcher = services.watcher as Obj;
  assert.ok(watcher, 'no watcher service');
  assert.equal(watcher.deploy?.replicas, 2);
  assert.ok(seconds(watcher.stop_grace_period) > SHUTDOWN_TIMEOUT_S, 'stop_grace_period must exceed 3m');

  // The build context and files it mounts exist, relative to the compose file.
  const here = dirname(COMPOSE);
  assert.equal(resolve(here, watcher.build.context), ROOT);
  assert.equal(resolve(here, watcher.build.context, watcher.build.dockerfile), DOCKERFILE);
  const mounts = (svc: Obj) =>
    ((svc.volumes ?? []) as string[]).map((v) => v.split(':')).filter(([src]) => /^\.\.?\//.test(src!));
  const configMount = mounts(watcher).find(([, dst]) => dst === '/etc/iam/iam-watcher.yaml');
  assert.ok(configMount, 'the watcher does not mount the shared config file');
  assert.equal(resolve(here, configMount[0]!), join(ROOT, 'configs/iam-watcher.yaml'));

  const db = services.mariadb as Obj;
  const init = mounts(db).filter(([, dst]) => dst!.startsWith('/docker-entrypoint-initdb.d/'));
  const sources = init.map(([src]) => resolve(here, src!));
  assert.ok(sources.includes(join(DEPLOY, 'sql/iam-schema.sql')), 'schema not loaded');
  assert.ok(sources.includes(join(DEPLOY, 'mysql-grants.sql')), 'grants not loaded');
  for (const s of sources) assert.ok(existsSync(s), `${s} is missing`);
  // The account exists before the grants file runs (init files run in name order).
  const names = [
    ...init.map(([, dst]) => basename(dst!)),
    ...((db.configs ?? []) as Obj[]).map((c) => basename(c.target as string)),
  ].sort();
  const createdAt = names.findIndex((n) => /user/.test(n));
  assert.ok(createdAt >= 0 && createdAt < names.findIndex((n) => /grants/.test(n)), names.join(', '));

  for (const [name, svc] of Object.entries(services) as Array<[string, Obj]>) {
    assert.ok(svc.healthcheck?.test, `${name} has no healthcheck`);
  }
  for (const dep of ['mariadb', 'redis']) {
    assert.equal(watcher.depends_on?.[dep]?.condition, 'service_healthy', `watcher must wait for ${dep}`);
  }
  const env = watcher.environment as Obj;
  assert.match(env.IAM_WATCHER_MYSQL_HOST, /^mariadb:3306$/);
  assert.equal(env.IAM_WATCHER_REDIS_HOST, 'redis');
});

// ---------------------------------------------------------------------------------------------------
// Dockerfile

/** A stage's base image, with `${ARG}` resolved from the global ARG defaults. */
function fromImage(stage: Instruction[]): string {
  const args = new Map<string, string>();
  for (const ins of parseDockerfile(readFileSync(DOCKERFILE, 'utf8')).globals) {
    const m = /^(\w+)=(.*)$/.exec(ins.args);
    if (ins.op === 'ARG' && m) args.set(m[1]!, m[2]!);
  }
  const from = stage[0]!.args.split(/\s+/)[0]!;
  return from.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? '');
}

void test('Dockerfile: multi-stage build, non-root exec-form entry, stop signal, health check', () => {
  const stages = dockerStages();
  assert.ok(stages.length >= 2, 'multi-stage build expected');
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  for (const s of [build, runtime]) assert.equal(fromImage(s), 'node:20-bookworm-slim');
  const runs = (s: Instruction[]) => s.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(
    runs(build).some((r) => /npm ci\b/.test(r) && !/--omit=dev/.test(r)),
    'build stage: npm ci',
  );
  assert.ok(
    runs(build).some((r) => /npm run build\b/.test(r)),
    'build stage: npm run build',
  );
  assert.ok(
    runs(runtime).some((r) => /npm ci\b.*--omit=dev/.test(r)),
    'runtime stage: npm ci --omit=dev',
  );
  const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(
    copies.some((c) => /^--from=\S+ \S*dist\b/.test(c)),
    'runtime stage copies dist from the build',
  );
  assert.ok(
    copies.some((c) => /^configs\b/.test(c)),
    'runtime stage copies configs',
  );

  const user = lastOf(runtime, 'USER')?.args.split(':')[0];
  assert.ok(user && user !== 'root' && user !== '0', `USER must be non-root, got ${user}`);
  assert.equal(lastOf(runtime, 'STOPSIGNAL')?.args, 'SIGTERM');
  assert.match(lastOf(runtime, 'EXPOSE')?.args ?? '', /\b5050\b/);
  assert.deepEqual(execForm(lastOf(runtime, 'ENTRYPOINT'), 'ENTRYPOINT'), [
    'node',
    'dist/cmd/iam-watcher/main.js',
  ]);
  assert.deepEqual(execForm(lastOf(runtime, 'CMD'), 'CMD'), ['-c', '/etc/iam/iam-watcher.yaml']);
  const health = lastOf(runtime, 'HEALTHCHECK')?.args ?? '';
  const healthCmd = execForm({ op: 'CMD', args: health.replace(/^.*?\bCMD\s+/, '') }, 'HEALTHCHECK CMD');
  assert.equal(healthCmd[0], 'node', 'slim images have no curl: the health check runs node');
  assert.match(healthCmd.join(' '), /http:\/\/127\.0\.0\.1:5050\/healthz/);
});

/** The HEALTHCHECK's node command, aimed at another port. */
function healthCheckCommand(port: number): string[] {
  const runtime = dockerStages().at(-1)!;
  const args = lastOf(runtime, 'HEALTHCHECK')!.args.replace(/^.*?\bCMD\s+/, '');
  return (JSON.parse(args) as string[]).slice(1).map((a) => a.replace(':5050/', `:${port}/`));
}

void test('Dockerfile: the HEALTHCHECK command passes on 200 and fails on 503 or a closed port', async () => {
  let status = 200;
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? status : 404, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  // Asynchronous spawn: the server must keep answering while the check runs.
  const check = () =>
    new Promise<number | null>((res) => {
      spawn(process.execPath, healthCheckCommand(port), { stdio: 'ignore' }).on('exit', (code) => res(code));
    });
  try {
    assert.equal(await check(), 0);
    status = 503;
    assert.equal(await check(), 1);
  } finally {
    await new Promise((res) => server.close(res));
  }
  assert.equal(await check(), 1, 'a closed port must fail the check');
});

void test('.dockerignore keeps build output out and everything the Dockerfile copies in', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', '.git'])
    assert.ok(patterns.includes(p), `.dockerignore lacks ${p}`);
  const sources = dockerStages()
    .flat()
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  assert.ok(sources.includes('package-lock.json') && sources.includes('internal'), sources.join(' '));
  for (const src of sources) {
    assert.ok(existsSync(join(ROOT, src)) || src.startsWith('tsconfig'), `COPY source ${src} missing`);
    const ignored = patterns.find((p) => !p.startsWith('!') && (src === p || src.startsWith(`${p}/`)));
    assert.equal(ignored, undefined, `COPY ${src} is excluded by .dockerignore`);
  }
});

/** The image's command line for the given CMD, as it runs from WORKDIR in this checkout. */
function imageCommand(cmd: string[]): { argv: string[]; cwd: string; configSource: string } {
  const runtime = dockerStages().at(-1)!;
  const entry = execForm(lastOf(runtime, 'ENTRYPOINT'), 'ENTRYPOINT');
  assert.equal(entry[0], 'node');
  // WORKDIR /opt/iam-watcher holds dist/ and configs/ as this checkout does.
  assert.ok(lastOf(runtime, 'WORKDIR'), 'runtime stage has no WORKDIR for the relative entry path');
  const copy = runtime.find((i) => i.op === 'COPY' && / \/etc\/iam\/iam-watcher\.yaml$/.test(i.args));
  assert.ok(copy, 'the image has no default /etc/iam/iam-watcher.yaml');
  const configSource = join(ROOT, copy.args.split(/\s+/)[0]!);
  const argv = [...entry.slice(1), ...cmd].map((a) => (a === '/etc/iam/iam-watcher.yaml' ? configSource : a));
  return { argv, cwd: ROOT, configSource };
}

void test("the image's entry command runs the built daemon: --version and validate", (t) => {
  requireBuild();
  const version = imageCommand(['--version']);
  const v = run(process.execPath, version.argv, { cwd: version.cwd });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(v.code, 0, v.out);
  assert.equal(v.stdout.trim(), pkg.version);

  const cmd = execForm(lastOf(dockerStages().at(-1)!, 'CMD'), 'CMD');
  const validate = imageCommand(['validate', ...cmd]);
  if (!existsSync(validate.configSource)) {
    return t.skip(`${relative(ROOT, validate.configSource)} does not exist yet: nothing to validate`);
  }
  const r = run(process.execPath, validate.argv, { cwd: validate.cwd });
  // Exit 0, or exit 2 for a problem in the config file; never a usage or start-up error of the command.
  assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}:\n${r.out}`);
  assert.doesNotMatch(r.out, /unknown (option|command)|too many arguments|Cannot find module|ERR_MODULE/);
  if (r.code === 2) assert.match(r.out, /iam-watcher\.yaml|config/i, r.out);
});

void test('the runtime install (production dependencies, dist, configs) runs the daemon without dev dependencies', () => {
  requireBuild();
  // The image runs `npm ci --omit=dev` with the npm of node:20 (10.x). Here the same set of packages
  // is copied from this checkout's node_modules (`npm ls --omit=dev`): offline, and independent of the
  // local npm's version. What it proves: nothing in dist/ needs a dev dependency at run time.
  const ls = run('npm', ['ls', '--omit=dev', '--all', '--parseable']);
  assert.equal(ls.code, 0, ls.out);
  const dir = scratch('iamw-image-');
  const packages = ls.stdout
    .split('\n')
    .map((p) => relative(ROOT, p.trim()))
    .filter((p) => p.startsWith('node_modules/'));
  assert.ok(packages.includes('node_modules/pino'), ls.stdout);
  assert.ok(!packages.includes('node_modules/typescript'), 'typescript listed as a runtime dependency');
  for (const p of packages) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  for (const p of ['package.json', 'dist', 'configs'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  const r = run(process.execPath, ['dist/cmd/iam-watcher/main.js', 'list'], { cwd: dir });
  assert.equal(r.code, 0, r.out);
  assert.match(r.stdout, /\bclean\b/);
});

// ---------------------------------------------------------------------------------------------------
// Prometheus

void test('prometheus alerts: well-formed rules on the daemon metrics, covering each failure mode', (t) => {
  const [doc] = loadYaml(ALERTS) as Obj[];
  const rules = (doc!.groups as Obj[]).flatMap((g) => {
    assert.ok(g.name, 'group without name');
    return g.rules as Obj[];
  });
  const names = rules.map((r) => r.alert as string);
  assert.equal(new Set(names).size, names.length, 'duplicate alert names');
  for (const r of rules) {
    assert.match(r.alert, /^[A-Z][A-Za-z0-9]+$/);
    assert.equal(typeof r.expr, 'string');
    assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity), `${r.alert}: severity`);
    assert.ok(r.annotations?.summary, `${r.alert}: summary`);
    if (r.for !== undefined) seconds(r.for);
    for (const m of (r.expr as string).matchAll(/\biam_watcher_\w+/g)) {
      const base = m[0].replace(/_(bucket|sum|count)$/, '');
      assert.ok(METRICS.has(base), `${r.alert}: unknown metric ${m[0]}`);
    }
  }
  const exprs = rules.map((r) => r.expr as string);
  const covers = (re: RegExp, what: string) =>
    assert.ok(
      exprs.some((e) => re.test(e)),
      `no alert on ${what}`,
    );
  // One rule for every schedule: two gaps of the watcher's own schedule, no fixed period.
  covers(
    /time\(\)\s*-[\s\S]*iam_watcher_last_success_timestamp_seconds[\s\S]*>[\s\S]*2\s*\*[\s\S]*iam_watcher_next_slot_timestamp_seconds[\s\S]*-\s*iam_watcher_previous_slot_timestamp_seconds/,
    'no recent success',
  );
  assert.ok(!exprs.some((e) => /86400|\[2d\]|\[3d\]/.test(e) && /last_success/.test(e)), 'a fixed period');
  covers(/result=~"failed\|timeout"[\s\S]*>=\s*3[\s\S]*unless[\s\S]*result="ok"/, 'a failure streak');
  covers(/iam_watcher_runs_total\{[^}]*result="failed"/, 'failing runs');
  covers(/iam_watcher_slots_skipped_total\{[^}]*reason="backend-unavailable"/, 'backend unavailable');
  covers(/iam_watcher_lease_lost_total/, 'lost leases');
  covers(/iam_watcher_slots_missed_total/, 'missed slots');
  covers(
    /iam_watcher_runs_total\{[^}]*result=~"failed\|timeout"[\s\S]*unless[\s\S]*result="ok"/,
    'a failure streak',
  );
  // Status watchers: rows waiting too long, rows failed for good, rows waiting with no progress.
  covers(/iam_watcher_status_oldest_waiting_seconds[\s\S]*>\s*\d+/, 'the oldest waiting row');
  covers(/iam_watcher_status_rows_total\{[^}]*outcome="failed"/, 'rows failed for good');
  covers(
    /iam_watcher_status_rows_waiting[\s\S]*>\s*0[\s\S]*unless[\s\S]*outcome=~"done\|failed"/,
    'rows waiting with no progress',
  );

  const promtool = which('promtool');
  if (!promtool) return t.skip('promtool is not installed: PromQL syntax not checked');
  const r = run(promtool, ['check', 'rules', ALERTS]);
  assert.equal(r.code, 0, r.out);
});

void test("prometheus alerts: promtool runs the rules' tests (staleness by schedule, failure streak)", (t) => {
  const promtool = which('promtool');
  if (!promtool) return t.skip('promtool is not installed (test/services/ensure.sh installs it)');
  const tests = join(DEPLOY, 'prometheus/alerts.test.yaml');
  const r = run(promtool, ['test', 'rules', tests]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
  // The cases the acceptance names are in the file: an hourly watcher 3 h stale fires, a daily one
  // 20 h stale does not.
  const text = readFileSync(tests, 'utf8');
  assert.match(
    text,
    /watcher="hourly"[\s\S]*eval_time: 4h\n\s+alertname: IamWatcherNoRecentSuccess\n\s+exp_alerts:\n\s+- exp_labels/,
  );
  assert.match(
    text,
    /watcher="daily"[\s\S]*eval_time: 26h\n\s+alertname: IamWatcherNoRecentSuccess\n\s+exp_alerts: \[\]/,
  );
});

// ---------------------------------------------------------------------------------------------------
// The Go iam-watcher's layout: ${IAM_INSTALL_DIR}/bin/iam-watcher --config=FILE

/** The production packages of this checkout (`npm ls --omit=dev`), copied into `<dir>/node_modules`. */
function productionModules(dir: string): string {
  const ls = run('npm', ['ls', '--omit=dev', '--all', '--parseable']);
  assert.equal(ls.code, 0, ls.out);
  for (const p of ls.stdout.split('\n').map((l) => relative(ROOT, l.trim()))) {
    if (p.startsWith('node_modules/')) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  return join(dir, 'node_modules');
}

/**
 * Starts `launcher --config=<the Go project's file>` as the user `uid` (the image's is non-root),
 * waits for /healthz, stops it with SIGTERM; returns its exit code and output.
 */
async function startThroughLauncher(launcher: string, database: string, logDir: string, uid?: number) {
  const port = await freePort();
  const env = cleanEnv({
    IAM_NODE: process.execPath,
    ...installerEnv(database, logDir),
    IAM_WATCHER_HEALTH_CHECK_ADDRESS: `127.0.0.1:${port}`,
    IAM_WATCHER_LOCK_BACKEND: 'local',
    IAM_WATCHER_LOG_FORMAT: 'json',
    IAM_WATCHER_SHUTDOWN_TIMEOUT: '10s',
  });
  const config = `--config=${join(ROOT, 'test/fixtures/go/iam-watcher.yaml')}`;
  const [cmd, args] =
    uid === undefined
      ? [launcher, [config]]
      : ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', launcher, config]];
  const child = spawn(cmd, args, { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    const health = await waitHttp(`http://127.0.0.1:${port}/healthz`, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${out}`);
    });
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    // /healthz answers before start-up ends; stop a started daemon, as an operator's restart does.
    for (let i = 0; i < 300 && !out.includes('"event":"daemon.started"'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /"event":"daemon.started"/);
    child.kill('SIGTERM');
    const deadline = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 30_000).unref());
    const code = await Promise.race([exited, deadline]);
    assert.notEqual(code, 'timeout', `no exit within 30 s of SIGTERM:\n${out}`);
    return { code, out };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

void test('Dockerfile: /opt/iam/bin/iam-watcher, the Go path the Helm chart starts, runs the image install', () => {
  const runtime = dockerStages().at(-1)!;
  const workdir = lastOf(runtime, 'WORKDIR')?.args;
  assert.equal(workdir, '/opt/iam-watcher');
  const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(copies.includes('cmd/iam-watcher/launcher.sh /opt/iam/bin/iam-watcher'), copies.join('\n'));
  const runs = runtime.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(
    runs.some(
      (r) => r.includes(`ln -s ${workdir} /opt/iam/lib/iam-watcher`) && /chmod 0755 \/opt\/iam\/bin/.test(r),
    ),
    'the launcher is executable and /opt/iam/lib/iam-watcher is the install',
  );
  assert.equal(
    statSync(join(ROOT, 'cmd/iam-watcher/launcher.sh')).mode & 0o111,
    0o111,
    'cmd/iam-watcher/launcher.sh executable',
  );
});

void test('logrotate: the shipped file parses and signals SIGUSR1 after rotating', () => {
  const file = join(DEPLOY, 'logrotate/iam-watcher');
  const text = readFileSync(file, 'utf8');
  assert.match(text, /postrotate[\s\S]*SIGUSR1[\s\S]*endscript/);
  assert.doesNotMatch(text, /copytruncate/, 'the daemon reopens by name: rename, never truncate');
  const bin = which('logrotate') ?? (existsSync('/usr/sbin/logrotate') ? '/usr/sbin/logrotate' : '');
  if (!bin) return;
  const dir = scratch('iamw-logrotate-');
  const r = run(bin, ['-d', '-s', join(dir, 'state'), file]);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /error/i, r.out);
});

void test('make install / the image layout: <prefix>/bin/iam-watcher --config=FILE starts and stops the daemon', async () => {
  requireBuild();
  const dir = scratch('iamw-layout-');
  chmodSync(dir, 0o755); // the image's user is not root: it must reach the install
  const modules = productionModules(join(dir, 'deps'));

  // make install PREFIX=<dir>/opt/iam CONFIG_DIR=<dir>/etc/iam
  const prefix = join(dir, 'opt/iam');
  const inst = run('bash', [join(DEPLOY, 'install.sh'), '--deps-from', modules, prefix], {
    env: { CONFIG_DIR: join(dir, 'etc/iam') },
  });
  assert.equal(inst.code, 0, inst.out);
  assert.ok(existsSync(join(prefix, 'lib/iam-watcher/dist/cmd/iam-watcher/main.js')));
  assert.ok(existsSync(join(dir, 'etc/iam/iam-watcher.yaml')), 'CONFIG_DIR gets the default config');
  assert.ok(!existsSync(join(prefix, 'lib/iam-watcher/node_modules/typescript')), 'no dev dependencies');

  // The image: /opt/iam-watcher is the install, /opt/iam/bin/iam-watcher the launcher beside a link.
  const image = join(dir, 'image');
  cpSync(join(prefix, 'lib/iam-watcher'), join(image, 'opt/iam-watcher'), { recursive: true });
  mkdirSync(join(image, 'opt/iam/bin'), { recursive: true });
  mkdirSync(join(image, 'opt/iam/lib'), { recursive: true });
  cpSync(join(ROOT, 'cmd/iam-watcher/launcher.sh'), join(image, 'opt/iam/bin/iam-watcher'));
  symlinkSync(join(image, 'opt/iam-watcher'), join(image, 'opt/iam/lib/iam-watcher'));

  const db = await createTestDatabase();
  try {
    const logDir = (name: string) => {
      const d = join(dir, name);
      mkdirSync(d);
      chmodSync(d, 0o777);
      return d;
    };
    const installed = await startThroughLauncher(join(prefix, 'bin/iam-watcher'), db.name, logDir('log'));
    assert.equal(installed.code, 0, installed.out);
    assert.match(installed.out, /"event":"daemon.stopped"/);
    const imaged = await startThroughLauncher(
      join(image, 'opt/iam/bin/iam-watcher'),
      db.name,
      logDir('image-log'),
      65534,
    );
    assert.equal(imaged.code, 0, imaged.out);
    assert.match(imaged.out, /"event":"daemon.stopped"/);
  } finally {
    await db.drop();
  }
});
