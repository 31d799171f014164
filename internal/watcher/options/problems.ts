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

/**
 * Removes a secret's text from a message. Field checks may quote the value they reject; for a secret
 * that quote must never reach a terminal or a log.
 */
export function scrub(message: string, secret: string): string {
  if (secret === '') return message;
  return message.split(JSON.stringify(secret)).join('***').split(secret).join('***');
}
