/**
 * Collects configuration problems so the loader can report every one at once.
 */
import type { ConfigProblem } from '../errors.js';

const MAX_MESSAGE = 300;

/** An append-only list of problems. */
export class Problems {
  readonly list: ConfigProblem[] = [];

  /** Adds a problem; an overlong message (a quoted value of kilobytes) is cut to one readable line. */
  add(key: string, message: string, where?: string): void {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message;
    this.list.push(where === undefined ? { key, message: text } : { key, message: text, where });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** A problem about the file or the sources as a whole, not one key. */
export const WHOLE_CONFIG = '(config)';
