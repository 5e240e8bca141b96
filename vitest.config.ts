import { defineConfig } from "vitest/config";

// Network-namespace tests create real kernel state (netns, nftables, processes); they run
// one file at a time so two files never race for the same node addresses.
export default defineConfig({
  test: {
    include: ["mesh/**/*.test.ts", "bench/**/*.test.ts", "components/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: "forks",
    reporters: ["default", "./mesh/testing/summary-reporter.ts"],
  },
});
