/**
 * The keys every status watcher has under `watcher.<name>.` (instead of the scheduling keys of a
 * scheduled watcher), into `Config.watchers.<name>.status`.
 */
import { boolField, durationField, intField, type Field } from './fields.js';

/** A key as the schema lists it (the `Entry` of watcher-keys.ts): YAML path, property path, field. */
type StatusEntry = readonly [key: string, prop: readonly string[], field: Field<unknown>];

/** Keys every status watcher has, before its own options. */
export const STATUS_WATCHER_KEYS = [
  'enabled',
  'dry-run',
  'batch-size',
  'poll-interval',
  'concurrency',
  'lease',
  'max-attempts',
  'backoff',
  'backoff-max',
  'timeout',
] as const;

/** `watcher.<name>.{enabled, poll-interval, ...}` of a status watcher. */
export function statusWatcherKeys(name: string, enabledByDefault: boolean): StatusEntry[] {
  const k = (leaf: string): string => `watcher.${name}.${leaf}`;
  const p = (leaf: string): readonly string[] => ['watchers', name, leaf];
  const s = (leaf: string): readonly string[] => ['watchers', name, 'status', leaf];
  return [
    [
      k('enabled'),
      p('enabled'),
      boolField({
        default: enabledByDefault,
        doc: 'Whether this watcher runs.',
        docZh: '是否运行该 watcher。',
      }),
    ],
    [
      k('dry-run'),
      p('dryRun'),
      boolField({
        default: false,
        doc: 'Log the rows that would be taken each poll; claim and change nothing.',
        docZh: '每次轮询只记录将会处理的行，不认领也不修改任何行。',
      }),
    ],
    [
      k('batch-size'),
      p('batchSize'),
      intField({
        default: 100,
        min: 1,
        max: 10_000,
        unit: 'rows',
        doc: 'Rows read and claimed at once, and most rows of one final UPDATE.',
        docZh: '每次读取并认领的行数，也是一条最终 UPDATE 语句最多更新的行数。',
      }),
    ],
    [
      k('poll-interval'),
      s('pollIntervalMs'),
      durationField({
        default: 1000,
        minMs: 50,
        maxMs: 3_600_000,
        doc: 'Pause after a pass over the table that found nothing to claim.',
        docZh: '扫描整张表却没有可认领的行之后，等待多久再扫描。',
      }),
    ],
    [
      k('concurrency'),
      s('concurrency'),
      intField({
        default: 4,
        min: 1,
        max: 1000,
        unit: 'handlers',
        doc: 'Handlers running at once on each replica.',
        docZh: '每个副本上同时运行的处理函数个数。',
      }),
    ],
    [
      k('lease'),
      s('leaseMs'),
      durationField({
        default: 30_000,
        minMs: 1000,
        maxMs: 3_600_000,
        doc: 'Claim lease of a row; extended every third of it while the row is in hand, reclaimed by another replica after it.',
        docZh: '行认领的租约时长；处理期间每过三分之一就续期一次，持有者崩溃后其他副本在租约到期后重新认领。',
      }),
    ],
    ...rowAttemptKeys(name),
  ];
}

/** `watcher.<name>.{max-attempts, backoff, backoff-max, timeout}`: the tries of one row. */
function rowAttemptKeys(name: string): StatusEntry[] {
  const k = (leaf: string): string => `watcher.${name}.${leaf}`;
  const s = (leaf: string): readonly string[] => ['watchers', name, 'status', leaf];
  return [
    [
      k('max-attempts'),
      s('maxAttempts'),
      intField({
        default: 5,
        min: 1,
        max: 1000,
        unit: 'attempts',
        doc: 'Tries of a row before it is set to the failed value (or left and reported).',
        docZh: '一行最多尝试的次数，之后将其置为失败状态值（未配置时保留原状态并报告）。',
      }),
    ],
    [
      k('backoff'),
      s('backoffMs'),
      durationField({
        default: 10_000,
        minMs: 10,
        maxMs: 86_400_000,
        doc: 'Delay before the first retry; doubles with each attempt (with jitter).',
        docZh: '第一次重试前的等待时间；此后每次尝试翻倍（带随机抖动）。',
      }),
    ],
    [
      k('backoff-max'),
      s('backoffMaxMs'),
      durationField({
        default: 600_000,
        minMs: 10,
        maxMs: 86_400_000,
        doc: 'Longest delay between two tries of a row.',
        docZh: '同一行两次尝试之间的最长等待时间。',
      }),
    ],
    [
      k('timeout'),
      s('timeoutMs'),
      durationField({
        default: 600_000,
        doc: "Per-row handler timeout: aborts the handler's signal, and the attempt counts as failed; 0 is none.",
        docZh: '单行处理函数的超时时间：超时后触发处理函数的 AbortSignal，本次尝试记为失败；0 表示不限。',
      }),
    ],
  ];
}
