/** The failure webhook as `notify.*` configures it, counted in the daemon's registry. */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { registerWebhookMetrics } from './webhook-metrics.js';
import { WebhookNotifier } from './webhook.js';

/** The notifier, or undefined when `notify.webhook-url` is empty (no metric series either). */
export function webhookNotifier(
  config: Config,
  logger: Logger,
  censor: ((text: string) => string) | undefined,
  registry: Registry,
): WebhookNotifier | undefined {
  const { notify, instanceId } = config;
  if (notify.webhookUrl === '') return undefined;
  return new WebhookNotifier({
    url: notify.webhookUrl,
    timeoutMs: notify.webhookTimeoutMs,
    attempts: notify.webhookAttempts,
    instanceId,
    logger: logger.child({ component: 'notify' }),
    censor: censor ?? ((text) => text),
    counted: registerWebhookMetrics(registry),
  });
}
