/**
 * Tracks whether the coordination backend answers, so an outage is logged once when it starts and
 * once when it ends, not once per slot.
 */
import type { Logger } from 'pino';

/** Outage bookkeeping for one backend. */
export class BackendHealth {
  #down = false;
  #since = 0;
  #failures = 0;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly backend: string,
  ) {}

  /** False while the last operation failed. */
  get available(): boolean {
    return !this.#down;
  }

  /** Notes a failed operation; logs the first one of an outage. */
  failed(err: unknown, operation: string): void {
    this.#failures += 1;
    if (this.#down) return;
    this.#down = true;
    this.#since = Date.now();
    this.logger?.error(
      { event: 'backend.unavailable', backend: this.backend, operation, err },
      `${this.backend} is unreachable: slots are skipped until it answers again`,
    );
  }

  /** Runs `fn`, noting its success or failure under `operation`; rejects as `fn` does. */
  async guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.ok();
      return result;
    } catch (err) {
      this.failed(err, operation);
      throw err;
    }
  }

  /** Notes a successful operation; logs the end of an outage. */
  ok(): void {
    if (!this.#down) return;
    const downMs = Date.now() - this.#since;
    this.logger?.info(
      { event: 'backend.recovered', backend: this.backend, downMs, failedOperations: this.#failures },
      `${this.backend} answers again`,
    );
    this.#down = false;
    this.#failures = 0;
  }
}
