import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Decides where the S3 tests' object store is (an RGW started on first use, or FERRY_TEST_S3_*).
    globalSetup: ["../../test-fixtures/dist/s3-global-setup.js"],
  },
});
