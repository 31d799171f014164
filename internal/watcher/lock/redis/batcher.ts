/**
 * Gathers the script items asked of one Redis server during one event-loop turn and sends them as
 * one `EVALSHA` when the turn ends (`setImmediate`). Timers of watchers due at the same instant fire
 * in the same turn, and so do the runs that end together: their claims, releases and records each
 * cost one command per server instead of one per watcher. On a single server a call's items go
 * packed, their keys and arguments as two joined arguments (scripts/packed.ts): the client then
 * encodes two arguments per call instead of seven per item. Against Redis Cluster (keys of
 * different watchers live in different hash slots) every item is its own call, its keys declared.
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
 * Between the keys (and between the arguments) of a packed call (see scripts/packed.ts): a control
 * character that no key, token or JSON text holds; a call with one that does goes unpacked.
 */
export const ITEM_SEPARATOR = '\x1f';

/**
 * Items per call. Several calls of this size go out back to back: the server runs the second while
 * the client already starts the runs the first one answered (the two overlap on two cores).
 */
export const MAX_ITEMS_PER_CALL = 100;

/** One script item: its keys and its arguments (a fixed number of each per script). */
export interface ScriptItem {
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

/** A caller's items, answered together once every call that carries some of them has answered. */
interface Pending {
  readonly items: readonly ScriptItem[];
  readonly replies: unknown[];
  left: number;
  settled: boolean;
  resolve(replies: unknown[]): void;
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

/**
 * One script on one client, its items batched per event-loop turn: every caller's items of a turn
 * go out together, in calls of up to {@link MAX_ITEMS_PER_CALL} items.
 */
export class ScriptBatcher {
  readonly #call: ScriptCall;
  readonly #itemsPerCall: number;
  /** Items go packed (scripts/packed.ts) to a single server, one by one with declared keys to a Cluster. */
  readonly #packed: boolean;
  readonly #queue = new TurnQueue<Pending>((pending) => this.#flush(pending));

  constructor(client: RedisLike, script: RedisScript) {
    this.#call = defineScript(client, script);
    this.#itemsPerCall = client.isCluster ? 1 : MAX_ITEMS_PER_CALL;
    this.#packed = !client.isCluster;
  }

  /** Queues items; resolves with their replies in order, rejects when a call carrying one failed. */
  push(items: readonly ScriptItem[]): Promise<unknown[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const replies = new Array<unknown>(items.length);
      this.#queue.push({ items, replies, left: items.length, settled: false, resolve, reject });
    });
  }

  #flush(pending: readonly Pending[]): void {
    let call = new Call();
    for (const p of pending) {
      for (let i = 0; i < p.items.length; i++) {
        call.add(p, i);
        if (call.owners.length === this.#itemsPerCall) {
          this.#send(call);
          call = new Call();
        }
      }
    }
    if (call.owners.length > 0) this.#send(call);
  }

  #send(call: Call): void {
    const { owners, places, keys, args } = call;
    const sent =
      this.#packed && call.packable
        ? this.#call(0, keys.join(ITEM_SEPARATOR), args.join(ITEM_SEPARATOR))
        : this.#call(keys.length, ...keys, ...args);
    sent.then(
      (replies) => {
        owners.forEach((p, n) => {
          p.replies[places[n] ?? 0] = (replies as unknown[])[n];
          if (--p.left === 0 && !p.settled) {
            p.settled = true;
            p.resolve(p.replies);
          }
        });
      },
      (err: unknown) => {
        for (const p of owners) {
          if (p.settled) continue;
          p.settled = true;
          p.reject(err);
        }
      },
    );
  }
}

/** The items of one call: each with its owner and its place among the owner's items. */
class Call {
  readonly owners: Pending[] = [];
  readonly places: number[] = [];
  readonly keys: string[] = [];
  readonly args: string[] = [];
  /** No key or argument holds the separator (a prefix or instance id might): the call may go packed. */
  packable = true;

  add(owner: Pending, place: number): void {
    const item = owner.items[place] as ScriptItem;
    this.owners.push(owner);
    this.places.push(place);
    for (const k of item.keys) {
      this.keys.push(k);
      if (k.includes(ITEM_SEPARATOR)) this.packable = false;
    }
    for (const a of item.args) {
      this.args.push(a);
      if (a.includes(ITEM_SEPARATOR)) this.packable = false;
    }
  }
}
