import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    // The files move hundreds of MiB each; on a 2-core machine they must not compete with each other.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Decides where the S3 tests' object store is (an RGW started on first use, or FERRY_TEST_S3_*).
    globalSetup: ["../test-fixtures/dist/s3-global-setup.js"],
  },
});
