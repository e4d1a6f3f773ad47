// The lease manager of tug-store: etcd v3.4's lessor as a deterministic state machine.

export { LEASE_SNAPSHOT_VERSION } from "./lease-snapshot.js";
export {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  EXPIRED_RETRY_MS,
  EXPIRY_CHECK_INTERVAL_MS,
  LEASE_REVOKE_RATE,
  type LeaseCheckpoint,
  type LeaseGrantResult,
  type LeaseInfo,
  type LeaseTimeToLive,
  Lessor,
  type LessorOptions,
  MAX_CHECKPOINT_BATCH,
  MAX_LEASE_ID,
  MAX_LEASE_TTL,
  minLeaseTtl,
} from "./lessor.js";
