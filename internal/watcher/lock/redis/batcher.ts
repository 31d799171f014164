/**
 * Gathers the script items asked of one Redis server during one event-loop turn and sends them as
 * one `EVALSHA` when the turn ends (`setImmediate`). Timers of watchers due at the same instant fire
 * in the same turn, and so do the runs that end together: their claims, releases and records each
 * cost one command per server instead of one per watcher. Against Redis Cluster (keys of different
 * watchers live in different hash slots) every item is its own call.
 */
import type { Cluster, Redis } from 'ioredis';
import { TurnQueue } from '../../../pkg/turn/turn-queue.js';
import { IllegalStateError } from '../../errors.js';

/** A Redis client the coordinator can use: a single server (standalone, Sentinel) or a Cluster. */
export type RedisLike = Redis | Cluster;

/** A Lua script and the name it is registered under. */
export interface RedisScript {
  readonly name: string;
  readonly lua: string;
}

/** A registered script: `EVALSHA` (or `EVAL` after a `NOSCRIPT`) with the keys, then the arguments. */
export type ScriptCall = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/**
 * Items per call. Several calls of this size go out back to back: the server runs the second while
 * the client already starts the runs the first one answered (the two overlap on two cores).
 */
export const MAX_ITEMS_PER_CALL = 100;

interface Pending {
  readonly keys: readonly string[];
  readonly args: readonly string[];
  resolve(reply: unknown): void;
  reject(err: unknown): void;
}

const defined = new WeakMap<RedisLike, Set<string>>();

/** Registers a script on a client once (ioredis then sends EVALSHA, and EVAL after a NOSCRIPT). */
export function defineScript(client: RedisLike, script: RedisScript): ScriptCall {
  let names = defined.get(client);
  if (names === undefined) {
    names = new Set();
    defined.set(client, names);
  }
  if (!names.has(script.name)) {
    client.defineCommand(script.name, { lua: script.lua });
    names.add(script.name);
  }
  const fn = (client as unknown as Record<string, ScriptCall | undefined>)[script.name];
  if (fn === undefined) throw new IllegalStateError(`Redis script ${script.name} is not defined`);
  return fn.bind(client);
}

/** One script on one client, its items batched per event-loop turn. */
export class ScriptBatcher {
  readonly #call: ScriptCall;
  readonly #itemsPerCall: number;
  readonly #queue = new TurnQueue<Pending>((items) => this.#flush(items));

  constructor(client: RedisLike, script: RedisScript) {
    this.#call = defineScript(client, script);
    this.#itemsPerCall = client.isCluster ? 1 : MAX_ITEMS_PER_CALL;
  }

  /** Queues one item; resolves with its reply, rejects when its call failed. */
  push(keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ keys, args, resolve, reject });
    });
  }

  #flush(items: readonly Pending[]): void {
    for (let i = 0; i < items.length; i += this.#itemsPerCall)
      this.#send(items.slice(i, i + this.#itemsPerCall));
  }

  #send(items: readonly Pending[]): void {
    const keys = items.flatMap((it) => it.keys);
    const args = items.flatMap((it) => it.args);
    this.#call(keys.length, ...keys, ...args).then(
      (replies) => items.forEach((it, i) => it.resolve((replies as unknown[])[i])),
      (err: unknown) => items.forEach((it) => it.reject(err)),
    );
  }
}
