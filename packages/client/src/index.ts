// @tug/client: the client-go pattern for tug — a typed API client, informers with indexers,
// a rate-limited workqueue that never hands one key to two workers, and leader election.

export * from "./workqueue/index.js";
export * from "./api-client/index.js";
