/**
 * Backend key names, all under `lock.key-prefix`. The watcher's name sits in a `{...}` hash tag, so
 * every key of one watcher lives in one Redis Cluster hash slot (a script may then touch its claim,
 * lease and holder keys together); different watchers spread over the cluster.
 */
import { iso } from '../../pkg/clock/iso.js';
import type { LeaseScope } from './coordinator.js';

/** The key layout for one prefix. */
export interface KeyNames {
  /** The claim of one slot: names the watcher and the slot time (ISO 8601, UTC). */
  slot(watcher: string, slotMs: number): string;
  lease(watcher: string, scope: LeaseScope): string;
  chain(watcher: string): string;
  lastRun(watcher: string): string;
  /** The last-run record of the watcher's last ok run (written with the run's record). */
  lastSuccess(watcher: string): string;
  /** Who took the watcher's latest run lease (read together with that lease key). */
  holder(watcher: string): string;
  /** The watcher's run history: a list of run records, newest first (beside its last-run record). */
  history(watcher: string): string;
  /** Operator controls (control.ts): the hash of paused watchers, one field per watcher. */
  paused(): string;
  /** Operator controls: the list of trigger requests the replicas take from. */
  triggers(): string;
  /** Operator controls: the list a replica answers one trigger request on. */
  triggerReply(id: string): string;
}

/** Builds key names; a prefix without a trailing `:` gets one. */
export function keyNames(prefix: string): KeyNames {
  const p = prefix === '' || prefix.endsWith(':') ? prefix : `${prefix}:`;
  const tag = (w: string): string => `{${w}}`;
  return {
    slot: (w, ms) => `${p}slot:${tag(w)}:${iso(ms)}`,
    lease: (w, scope) => {
      switch (scope.kind) {
        case 'running':
          return `${p}running:${tag(w)}`;
        case 'waiting':
          return `${p}waiting:${tag(w)}`;
        case 'slot':
          return `${p}running:${tag(w)}:${iso(scope.slotMs)}`;
      }
    },
    chain: (w) => `${p}chain:${tag(w)}`,
    lastRun: (w) => `${p}last-run:${tag(w)}`,
    lastSuccess: (w) => `${p}last-success:${tag(w)}`,
    holder: (w) => `${p}holder:${tag(w)}`,
    history: (w) => `${p}history:${tag(w)}`,
    // One hash tag for the control keys: a replica reads them in one pipeline, also on a Cluster.
    paused: () => `${p}{control}:paused`,
    triggers: () => `${p}{control}:triggers`,
    triggerReply: (id) => `${p}{control}:reply:${id}`,
  };
}
