/** `notify.*`: where the daemon reports failed, timed-out and missed runs besides logs and metrics. */
import type { Entry } from './watcher-keys.js';
import { durationField, intField, stringField } from './fields.js';

/**
 * The webhook URL may carry a token (in its path or query), so it is a secret: never printed, and
 * a problem with it never quotes it.
 */
export function checkWebhookUrl(v: string): string | undefined {
  if (v === '') return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'must be an http:// or https:// URL (the value is not shown: it may hold a token)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must be an http:// or https:// URL, got a ${url.protocol.replace(/:$/, '')}: URL`;
  }
  return undefined;
}

/** The `notify.*` keys. */
export function notifyKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['notify', k];
  return [
    [
      'notify.webhook-url',
      p('webhookUrl'),
      stringField({
        default: '',
        secret: true,
        doc: 'URL that gets a small JSON POST for each failed, timed-out or missed run (for teams without Alertmanager); empty is off. It may hold a token, so it is a secret.',
        docZh:
          '每次运行失败、超时或错过时间槽时，向这个 URL 发送一个简短的 JSON POST（供没有 Alertmanager 的团队使用）；为空时关闭。URL 中可能带有令牌，因此按密钥处理。',
        check: checkWebhookUrl,
      }),
    ],
    [
      'notify.webhook-timeout',
      p('webhookTimeoutMs'),
      durationField({
        default: 5_000,
        minMs: 100,
        maxMs: 60_000,
        doc: 'How long one webhook post may take before it counts as failed.',
        docZh: '一次 webhook 投递最多等待多久，超时即算作失败。',
      }),
    ],
    [
      'notify.webhook-attempts',
      p('webhookAttempts'),
      intField({
        default: 3,
        min: 1,
        max: 10,
        doc: 'Tries per notification (1 = no retry); retries wait 1s, 2s, 4s... and only follow network errors, timeouts, 429 and 5xx answers.',
        docZh:
          '每条通知最多尝试的次数（1 表示不重试）；重试前依次等待 1s、2s、4s……，只在网络错误、超时、429 和 5xx 应答之后重试。',
      }),
    ],
  ];
}
