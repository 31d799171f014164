/**
 * The keys every watcher has under `watcher.<name>.`, and the watcher's own options after them.
 */
import { boolField, durationField, enumField, intField, kebab, stringField, type Field } from './fields.js';
import { checkTimeZone } from './checks.js';
import { WatcherDefinitionError } from '../errors.js';
import { STATUS_WATCHER_KEYS, statusWatcherKeys } from './status-keys.js';

/**
 * What the configuration needs to know of a watcher: its name, its defaults and its own option
 * fields. The registry's `Watcher` is one; `options/` takes this, not the registry's type, so that
 * the registry may use the field constructors without a package cycle.
 */
export interface WatcherSpec {
  /** Also the key prefix `watcher.<name>.`. */
  readonly name: string;
  /** `status` for a status watcher (its keys are those of {@link statusWatcherKeys}). */
  readonly kind?: 'scheduled' | 'status';
  /** Default of `watcher.<name>.schedule` (scheduled watchers). */
  readonly schedule?: string;
  /** Default of `watcher.<name>.enabled` (true when absent). */
  readonly enabledByDefault?: boolean;
  /** The watcher's own options: camelCase property -> field. */
  readonly options: Readonly<Record<string, Field<unknown>>>;
}

/** A key as the schema lists it: YAML path, property path in Config, field, doc default. */
export type Entry = readonly [
  key: string,
  prop: readonly string[],
  field: Field<unknown>,
  defaultText?: string,
];

/** Keys every watcher has under `watcher.<name>.`, before its own options. */
export const COMMON_WATCHER_KEYS = [
  'enabled',
  'schedule',
  'mode',
  'overlap',
  'catch-up',
  'time-zone',
  'dry-run',
  'batch-size',
  'timeout',
  'retry',
] as const;

/** `watcher.<name>.{enabled, schedule, ...}` with the watcher's defaults. */
export function commonWatcherKeys(w: WatcherSpec): Entry[] {
  if (w.kind === 'status') return statusWatcherKeys(w.name, w.enabledByDefault ?? true);
  const k = (name: string): string => `watcher.${w.name}.${name}`;
  const p = (name: string): readonly string[] => ['watchers', w.name, name];
  return [
    [
      k('enabled'),
      p('enabled'),
      boolField({
        default: w.enabledByDefault ?? true,
        doc: 'Whether this watcher is scheduled.',
        docZh: '是否调度该 watcher。',
      }),
    ],
    [
      k('schedule'),
      p('schedule'),
      stringField({
        default: w.schedule ?? '',
        doc: 'Cron spec (5 or 6 fields, or @daily...) or @every <duration>; quote it in YAML.',
        docZh: 'cron 表达式（5 或 6 个字段，或 @daily 等描述符）或 @every <duration>；在 YAML 中须加引号。',
        allowEmpty: false,
      }),
    ],
    [
      k('mode'),
      p('mode'),
      enumField({
        default: 'fixed-rate',
        values: ['fixed-rate', 'fixed-delay'],
        doc: 'For @every: fixed-rate (slots on a grid from the epoch) or fixed-delay (interval after the previous run ends).',
        docZh:
          '仅对 @every 有效：fixed-rate（间隔性定时任务，时间槽落在从 Unix 纪元起算的网格上）或 fixed-delay（间隔任务，上一次运行结束后间隔一段时间再运行）。',
      }),
    ],
    [
      k('overlap'),
      p('overlap'),
      enumField({
        default: 'skip',
        values: ['skip', 'allow', 'delay'],
        doc: 'A slot that comes while the previous run still runs: skip it, allow it, or delay it until the run ends.',
        docZh:
          '上一次运行尚未结束时又到了新的时间槽：skip 跳过，allow 照常运行，delay 推迟到上一次运行结束后再运行。',
      }),
    ],
    [
      k('catch-up'),
      p('catchUpMs'),
      durationField({
        default: 0,
        doc: 'At start-up, run the latest missed slot if it is within this window; 0 is off.',
        docZh: '启动时，若最近一个错过的时间槽在这个时间窗口内，则补跑一次；0 表示关闭。',
      }),
    ],
    [
      k('time-zone'),
      p('timeZone'),
      stringField({
        default: '',
        doc: 'IANA time zone of the cron spec; empty is the local zone.',
        docZh: 'cron 表达式所用的 IANA 时区；为空时使用本地时区。',
        check: checkTimeZone,
      }),
    ],
    ...watcherRunKeys(w),
  ];
}

/** `watcher.<name>.{dry-run, batch-size, timeout, retry.*}`: how a scheduled watcher's runs go. */
function watcherRunKeys(w: WatcherSpec): Entry[] {
  const k = (name: string): string => `watcher.${w.name}.${name}`;
  const p = (name: string): readonly string[] => ['watchers', w.name, name];
  return [
    [
      k('dry-run'),
      p('dryRun'),
      boolField({
        default: false,
        doc: 'Count and log what would change; change nothing.',
        docZh: '只统计并记录将会修改的内容，不做任何修改。',
      }),
    ],
    [
      k('batch-size'),
      p('batchSize'),
      intField({
        default: 1000,
        doc: 'Rows per statement.',
        docZh: '每条 SQL 语句处理的行数。',
        min: 1,
        max: 100_000,
        unit: 'rows',
      }),
    ],
    [
      k('timeout'),
      p('timeoutMs'),
      durationField({
        default: 0,
        doc: 'A run still going after this long is aborted (its AbortSignal fires) and recorded as timeout; 0 is no limit.',
        docZh: '运行超过这段时间即被中止（触发其 AbortSignal），并记录为 timeout；0 表示不限时。',
      }),
    ],
    [
      k('retry.attempts'),
      p('retryAttempts'),
      intField({
        default: 1,
        doc: 'Attempts per slot: a failed run is tried again within its slot, before the next slot, under the same lease and overlap rules; 1 is no retry.',
        docZh:
          '每个时间槽的尝试次数：失败的运行会在本时间槽内、下一个时间槽之前再试，遵守同样的租约和重叠规则；1 表示不重试。',
        min: 1,
        max: 10,
        unit: 'attempts',
      }),
    ],
    [
      k('retry.backoff'),
      p('retryBackoffMs'),
      durationField({
        default: 10_000,
        doc: 'Wait between a failed attempt and the next; doubles after each attempt.',
        docZh: '一次失败的尝试与下一次尝试之间的等待时间；每次尝试后翻倍。',
      }),
    ],
  ];
}

/**
 * The watcher's own options as `watcher.<name>.<kebab-name>`.
 * @throws WatcherDefinitionError when an option clashes with a common key (a bug in the watcher).
 */
export function ownWatcherKeys(w: WatcherSpec): Entry[] {
  return Object.entries(w.options).map(([name, field]) => {
    const yamlName = kebab(name);
    const common: readonly string[] = w.kind === 'status' ? STATUS_WATCHER_KEYS : COMMON_WATCHER_KEYS;
    if (common.includes(yamlName)) {
      throw new WatcherDefinitionError(
        `watcher "${w.name}" declares option "${name}", which clashes with watcher.${w.name}.${yamlName}`,
      );
    }
    return [`watcher.${w.name}.${yamlName}`, ['watchers', w.name, 'options', name], field] as const;
  });
}
