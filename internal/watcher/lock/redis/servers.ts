/**
 * One Redis server (or Cluster) as the coordinator uses it: its client, a batcher per batched script,
 * and the plain reads. There is one per client, shared by every coordinator on that client, so that
 * their items of one turn travel in the same calls.
 */
import { ScriptBatcher, type RedisLike } from './batcher.js';
import { CLAIM } from './scripts/claim.js';
import { EXTEND } from './scripts/extend.js';
import { RELEASE } from './scripts/release.js';

/** The plain reads used here, typed once for both client kinds. */
interface Reads {
  get(key: string): Promise<string | null>;
  exists(key: string): Promise<number>;
}

const byClient = new WeakMap<RedisLike, LockServer>();

/** A Redis server with the coordinator's scripts on it. */
export class LockServer {
  readonly claim: ScriptBatcher;
  readonly release: ScriptBatcher;
  readonly extend: ScriptBatcher;

  private constructor(readonly client: RedisLike) {
    this.claim = new ScriptBatcher(client, CLAIM);
    this.release = new ScriptBatcher(client, RELEASE);
    this.extend = new ScriptBatcher(client, EXTEND);
  }

  /** The server of a client (made on first use). */
  static of(client: RedisLike): LockServer {
    let s = byClient.get(client);
    if (s === undefined) {
      s = new LockServer(client);
      byClient.set(client, s);
    }
    return s;
  }

  get(key: string): Promise<string | null> {
    return (this.client as Reads).get(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await (this.client as Reads).exists(key)) === 1;
  }
}
