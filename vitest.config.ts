import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "extension/src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Most test time is spent waiting on child processes (the CLI, git, age, the language server):
    // vitest's default of one worker fewer than the cores leaves a 2-core machine with one worker
    // and a core mostly idle. Two workers there: the whole suite in 497 s instead of 607–627 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
