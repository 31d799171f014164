/**
 * Gathers the script items asked of one Redis server during one event-loop turn and sends them as
 * one `EVALSHA` when the turn ends (`setImmediate`). Timers of watchers due at the same instant fire
 * in the same turn, and so do the runs that end together: their claims, releases and records each
 * cost one command per server instead of one per watcher. Against Redis Cluster (keys of different
 * watchers live in different hash slots) every item is its own call.
 */
import type { Cluster, Redis } from 'ioredis';
import { TurnQueue } from '../../pkg/turn/turn-queue.js';

/** A Redis client the coordinator can use: a single server (standalone, Sentinel) or a Cluster. */
export type RedisLike = Redis | Cluster;

/**
 * Items per call. Several calls of this size go out back to back: the server runs the second while
 * the client already starts the runs the first one answered (the two overlap on two cores).
 */
const MAX_ITEMS_PER_CALL = 100;

type ScriptFn = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

interface Pending {
  readonly keys: readonly string[];
  readonly args: readonly string[];
  resolve(reply: unknown): void;
  reject(err: unknown): void;
}

const defined = new WeakMap<RedisLike, Set<string>>();

/** Registers a script on a client once (ioredis then sends EVALSHA, and EVAL after a NOSCRIPT). */
export function scriptOf(client: RedisLike, name: string, lua: string): ScriptFn {
  let names = defined.get(client);
  if (names === undefined) {
    names = new Set();
    defined.set(client, names);
  }
  if (!names.has(name)) {
    client.defineCommand(name, { lua });
    names.add(name);
  }
  const fn = (client as unknown as Record<string, ScriptFn>)[name];
  if (fn === undefined) throw new Error(`script ${name} is not defined`);
  return fn.bind(client);
}

/** One script on one client, batched per event-loop turn. */
export class ScriptBatcher {
  readonly #call: ScriptFn;
  readonly #cluster: boolean;
  readonly #queue = new TurnQueue<Pending>((queue) => this.#flush(queue));

  constructor(client: RedisLike, name: string, lua: string) {
    this.#call = scriptOf(client, name, lua);
    this.#cluster = client.isCluster;
  }

  /** Queues one item; resolves with its reply, rejects when the call failed. */
  push(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ keys, args, resolve, reject });
    });
  }

  /**
   * Sends items gathered by the caller as one call now (no queue): `keys` and `args` hold whole
   * items, at most {@link MAX_ITEMS_PER_CALL} of them (one on a Cluster). Resolves with the replies.
   */
  send(keys: readonly string[], args: readonly string[]): Promise<unknown[]> {
    return this.#call(keys.length, ...keys, ...args) as Promise<unknown[]>;
  }

  /** Items per {@link send} call this client takes. */
  get itemsPerCall(): number {
    return this.#cluster ? 1 : MAX_ITEMS_PER_CALL;
  }

  #flush(queue: readonly Pending[]): void {
    const size = this.#cluster ? 1 : MAX_ITEMS_PER_CALL;
    for (let i = 0; i < queue.length; i += size) this.#send(queue.slice(i, i + size));
  }

  #send(items: readonly Pending[]): void {
    const keys: string[] = [];
    const args: string[] = [];
    for (const it of items) {
      for (const k of it.keys) keys.push(k);
      for (const a of it.args) args.push(a);
    }
    this.#call(keys.length, ...keys, ...args).then(
      (reply) => {
        const replies = reply as unknown[];
        for (let i = 0; i < items.length; i++) items[i]?.resolve(replies[i]);
      },
      (err: unknown) => {
        for (const it of items) it.reject(err);
      },
    );
  }
}
