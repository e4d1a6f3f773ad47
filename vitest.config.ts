import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources under test (the "source" export
  // condition), so tests never run against a stale dist/.
  resolve: { conditions: ["source"] },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    setupFiles: ["scripts/vitest/yield-between-tests.ts"],
    // Property tests run thousands of seeds; give them room on a 2-core CI machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
