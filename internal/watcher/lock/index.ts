/** Cluster coordination: slot claims, leases, fixed-delay chains, last-run records, run history and operator controls. */
export type {
  ClaimLeaseResult,
  ClaimOutcome,
  ClaimRequest,
  Coordinator,
  FinishedRun,
  LastRunRecord,
  LeaseHolder,
  Lease,
  LeaseResult,
  LeaseScope,
} from './coordinator.js';
export {
  LocalCoordinator,
  createLocalCoordinator,
  type LocalCoordinatorOptions,
} from './local-coordinator.js';
export { createRedisCoordinator, type RedisCoordinatorOptions, type RedisLike } from './redis/coordinator.js';
export { quorum } from './redis/quorum.js';
export { keyNames, type KeyNames } from './keys.js';
export {
  failureStreak,
  readHistory,
  readPaused,
  type HistoryEntry,
  type PauseRecord,
} from './redis/control.js';
