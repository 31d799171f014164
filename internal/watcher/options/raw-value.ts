/**
 * A raw value for one key from one source, before its field checks it.
 */
import type { ValueSource } from './fields.js';

/** One key's raw value as a source gave it. */
export interface RawValue {
  readonly key: string;
  readonly raw: unknown;
  readonly source: ValueSource;
  /** `file:line`, `env IAM_WATCHER_...` or `flag --...`. */
  readonly where: string;
}
