import { defineConfig } from "vitest/config";

// Unit tests (`*.test.ts`) are pure and fast. Integration tests (`*.int.test.ts`) run against the real
// parts: the local control plane (or any cluster through KUBECONFIG) and Postgres (or DATABASE_URL).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          // Generous: the CRD generator type-checks the API package, slow on two busy cores.
          testTimeout: 60_000,
          include: ["**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**", "test/e2e/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: ["node_modules/**", "test/resilience/**"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "resilience",
          include: ["test/resilience/**/*.int.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // wicked installed with Helm on a real node (hack/cluster), as users run it.
          name: "node",
          include: ["test/e2e/node/**/*.node.test.ts"],
          globalSetup: ["test/e2e/node/global-setup.ts"],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // Its steps build on each other: after the first failure the rest would only repeat it.
          bail: 1,
        },
      },
    ],
  },
});
