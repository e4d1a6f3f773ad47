// Leader election on coordination/v1 Leases.

export { apiLeaseClient, type LeaseApi } from "./api-lease-client.js";
export {
  JITTER_FACTOR,
  LEASE_DURATION_MS,
  type LeaderCallbacks,
  type LeaderElectionConfig,
  LeaderElector,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
} from "./leader-elector.js";
export type { LeaseClient, LeaseRecord, StoredLeaseRecord } from "./lease-client.js";
