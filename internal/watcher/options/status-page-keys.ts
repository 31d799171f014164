/** `status-page.*`: the read-only HTML status page on the health listener. */
import type { Entry } from './watcher-keys.js';
import { boolField, durationField } from './fields.js';

const SECOND = 1_000;

/** The status page's keys, in documentation order. */
export function statusPageKeys(): Entry[] {
  return [
    [
      'status-page.enabled',
      ['statusPage', 'enabled'],
      boolField({
        default: true,
        doc: 'Serve the read-only HTML status page at / and /status on health-check-address (watchers, last runs, next slots, running leases, replicas); false answers 404 there.',
        docZh:
          '在 health-check-address 上的 / 和 /status 提供只读的 HTML 状态页（watcher、最近的运行、后续时间槽、运行中的租约、副本）；设为 false 时这两个路径返回 404。',
      }),
    ],
    [
      'status-page.refresh',
      ['statusPage', 'refreshMs'],
      durationField({
        default: 10 * SECOND,
        doc: 'How often the status page reloads itself in the browser (a meta refresh; no script).',
        docZh: '状态页在浏览器中自动刷新的间隔（使用 meta refresh，不用脚本）。',
        minMs: SECOND,
        maxMs: 3_600 * SECOND,
      }),
    ],
  ];
}
