import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources under test (the "source" export
  // condition), so tests never run against a stale dist/.
  // Node-side (SSR) resolution of externalized packages ignores resolve.conditions, so the
  // workspace packages are also aliased to their sources outright.
  resolve: {
    conditions: ["source"],
    alias: {
      "@tug/raft": fileURLToPath(new URL("./packages/raft/src/index.ts", import.meta.url)),
      "@tug/grpc": fileURLToPath(new URL("./packages/grpc/src/index.ts", import.meta.url)),
      "@tug/daemon": fileURLToPath(new URL("./packages/daemon/src/index.ts", import.meta.url)),
      "@tug/store": fileURLToPath(new URL("./packages/store/src/index.ts", import.meta.url)),
      "@tug/api": fileURLToPath(new URL("./packages/api/src/index.ts", import.meta.url)),
      "@tug/client": fileURLToPath(new URL("./packages/client/src/index.ts", import.meta.url)),
      "@tug/agent": fileURLToPath(new URL("./packages/agent/src/index.ts", import.meta.url)),
      "@tug/cri-docker": fileURLToPath(
        new URL("./packages/cri-docker/src/index.ts", import.meta.url),
      ),
      "@tug/scheduler": fileURLToPath(
        new URL("./packages/scheduler/src/index.ts", import.meta.url),
      ),
      "@tug/controller-manager": fileURLToPath(
        new URL("./packages/controller-manager/src/index.ts", import.meta.url),
      ),
      "@tug/cli": fileURLToPath(new URL("./packages/cli/src/index.ts", import.meta.url)),
      "@tug/apiserver": fileURLToPath(
        new URL("./packages/apiserver/src/index.ts", import.meta.url),
      ),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    setupFiles: ["scripts/vitest/yield-between-tests.ts"],
    // Property tests run thousands of seeds; give them room on a 2-core CI machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
