/** `iam_watcher_webhook_posts_total{outcome}`: how the failure webhook's notifications ended. */
import { Counter, type Registry } from 'prom-client';
import type { WebhookOutcome } from './webhook.js';

/** Registers the counter (every outcome from 0) and returns the function that counts one. */
export function registerWebhookMetrics(registry: Registry): (outcome: WebhookOutcome) => void {
  const posts = new Counter({
    name: 'iam_watcher_webhook_posts_total',
    help: 'Webhook notifications by outcome: sent (2xx), failed (after the retries), dropped (queue full or shutting down).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['sent', 'failed', 'dropped'] as const) posts.inc({ outcome }, 0);
  return (outcome) => posts.inc({ outcome });
}
