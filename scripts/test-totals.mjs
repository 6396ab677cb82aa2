#!/usr/bin/env node
// Sums the vitest JSON reports that every workspace package writes (test-results.json) into the one
// line CI reads: "N passed, N failed". A package whose tests crashed before reporting counts as failed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const folders = ["packages", "."].flatMap((base) =>
  readdirSync(join(root, base), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith(".") && d.name !== "node_modules")
    .map((d) => join(root, base, d.name)),
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const folder of folders) {
  const pkg = join(folder, "package.json");
  if (!existsSync(pkg)) continue;
  const manifest = JSON.parse(readFileSync(pkg, "utf8"));
  if (!manifest.scripts?.test) continue;
  const report = join(folder, "test-results.json");
  if (!existsSync(report)) {
    console.error(`${manifest.name}: no test report (its test run did not finish)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests ?? 0;
  // A suite that failed to load has no failed tests of its own; count it once so it is not lost.
  failed += Math.max(r.numFailedTests ?? 0, r.numFailedTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
