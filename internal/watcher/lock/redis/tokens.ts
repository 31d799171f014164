/**
 * Claim and lease tokens: `<sinceMs>:<nonce>:<seq>:<instance>`. Unique per attempt (the nonce is
 * per process, the counter per attempt), and the value of a running lease tells `status` who holds
 * it since when, with no holder record to write for it.
 */
import { randomBytes } from 'node:crypto';
import type { LeaseHolder } from '../coordinator.js';

/** Makes the tokens of one coordinator. */
export class Tokens {
  readonly #nonce = randomBytes(6).toString('base64url');
  #seq = 0;

  constructor(private readonly instanceId: string) {}

  next(): string {
    return `${Date.now()}:${this.#nonce}:${(this.#seq++).toString(36)}:${this.instanceId}`;
  }
}

/** The holder a token names, or undefined when the value is no token. */
export function holderOf(token: string): LeaseHolder | undefined {
  const parts = token.split(':');
  if (parts.length < 4) return undefined;
  return { instance: parts.slice(3).join(':'), sinceMs: Number(parts[0]) };
}
