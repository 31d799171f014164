/** `log.*`: the Go original's zap options, with what each does (or does not do) here. */
import type { Entry } from './watcher-keys.js';
import { boolField, enumField, listField, stringField } from './fields.js';
import { checkOutputPath } from './checks.js';

/** The `log.*` keys, in documentation order. */
export function logKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['log', k];
  return [
    [
      'log.name',
      p('name'),
      stringField({
        default: '',
        doc: 'Logger name, written as "name" on every line (zap\'s logger name); empty for none.',
        docZh: '日志器名称，作为 "name" 字段写入每一行（即 zap 的 logger 名称）；为空时不写。',
        maxLength: 128,
      }),
    ],
    [
      'log.development',
      p('development'),
      boolField({
        default: false,
        doc: "Compatibility only (no effect): zap's development mode (stack traces from warn up, panic on dpanic).",
        docZh: '仅为兼容保留（不起作用）：zap 的开发模式（warn 及以上级别打印堆栈，dpanic 时 panic）。',
      }),
    ],
    [
      'log.level',
      p('level'),
      enumField({
        default: 'info',
        values: ['trace', 'debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal', 'silent'],
        doc: "Lowest level written; zap's dpanic and panic write error lines no more, as fatal does.",
        docZh: '输出的最低日志级别；zap 的 dpanic 和 panic 与 fatal 相同，不再输出 error 级别的日志。',
      }),
    ],
    [
      'log.format',
      p('format'),
      enumField({
        default: 'json',
        values: ['json', 'console'],
        doc: 'json (one object per line) or console (text lines for people).',
        docZh: 'json（每行一个 JSON 对象）或 console（便于人工阅读的文本行）。',
      }),
    ],
    [
      'log.enable-color',
      p('enableColor'),
      boolField({
        default: false,
        doc: 'Colour the level of console lines (log.format: console).',
        docZh: '为 console 格式的日志行的级别着色（log.format: console 时）。',
      }),
    ],
    [
      'log.disable-caller',
      p('disableCaller'),
      boolField({
        default: true,
        doc: 'Compatibility only: lines never carry the caller (file:line) here; false is reported at start-up.',
        docZh: '仅为兼容保留：这里的日志行从不带调用位置（文件：行号）；设为 false 时启动时会报告。',
      }),
    ],
    [
      'log.disable-stacktrace',
      p('disableStacktrace'),
      boolField({
        default: false,
        doc: 'Leave the stack trace out of logged errors.',
        docZh: '记录错误时不输出堆栈。',
      }),
    ],
    ...logOutputKeys(),
  ];
}

/** `log.output-paths` and `log.error-output-paths`: where lines and the daemon's own errors go. */
function logOutputKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['log', k];
  return [
    [
      'log.output-paths',
      p('outputPaths'),
      listField({
        default: ['stdout'],
        doc: 'Where logs go: stdout, stderr or file paths (a list, or one comma-separated string); files are appended to, created mode 0640, reopened on SIGUSR1.',
        docZh:
          '日志输出位置：stdout、stderr 或文件路径（列表，或用逗号分隔的一个字符串）；文件以追加方式写入，不存在时以 0640 权限创建，收到 SIGUSR1 时重新打开。',
        check: checkOutputPath,
      }),
    ],
    [
      'log.error-output-paths',
      p('errorOutputPaths'),
      listField({
        default: [],
        doc: "Where the daemon's own errors also go (error and fatal lines, and failures to write a log output): stdout, stderr or file paths, as log.output-paths.",
        docZh:
          '守护进程自身的错误额外写到哪里（error 和 fatal 级别的日志行，以及写日志输出失败的报告）：stdout、stderr 或文件路径，写法同 log.output-paths。',
        check: checkOutputPath,
      }),
    ],
  ];
}
