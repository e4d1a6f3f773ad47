// Vitest runs a file's tests back to back on microtasks, so a file of long synchronous tests
// (the Raft property tests: a minute of CPU) never lets the worker's event loop turn. The
// worker then cannot answer the runner's RPC, whose 60 s timer fires as soon as the loop
// turns, and the run reports "Timeout calling onTaskUpdate". Yielding to the macrotask queue
// before each test lets those messages through; it costs microseconds.
import { beforeEach } from "vitest";

beforeEach(async () => {
  await new Promise<void>((resolve) => setImmediate(resolve));
});
