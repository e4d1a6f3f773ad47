// @tug/client: the client-go pattern for tug — a typed API client, informers with indexers,
// a rate-limited workqueue that never hands one key to two workers, and leader election.

export * from "./api-client/index.js";
export * from "./cache/index.js";
export * from "./informer/index.js";
export * from "./leader-election/index.js";
export * from "./workqueue/index.js";
