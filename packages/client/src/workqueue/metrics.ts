// Optional instrumentation hooks for a workqueue, shaped after client-go's workqueue metrics
// (depth, adds, queue latency, work duration, retries) without tying tug to a metrics library:
// a daemon wires these to its Prometheus registry; tests can count calls.

/** Every hook is optional; the queue calls the ones present, synchronously. */
export interface WorkQueueMetrics {
  /** The number of keys waiting to be handed out (not counting keys being processed). */
  setDepth?(depth: number): void;
  /** A key was accepted by add(): it was not already waiting (client-go's adds_total). */
  incAdds?(): void;
  /** Milliseconds a key waited between add() and get() (client-go's queue_duration_seconds). */
  observeQueueDuration?(ms: number): void;
  /** Milliseconds between get() handing a key out and done() (client-go's work_duration_seconds). */
  observeWorkDuration?(ms: number): void;
  /** addRateLimited() scheduled a retry (client-go's retries_total). */
  incRetries?(): void;
}
