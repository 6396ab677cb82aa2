#!/usr/bin/env node
// Sums the vitest JSON reports that every workspace package writes (test-results.json) into the one
// line CI reads: "N passed, N failed". A package whose tests crashed before reporting counts as failed.
//
//   node scripts/test-totals.mjs                      this tree's reports: the line
//   node scripts/test-totals.mjs --record FILE LABEL  this tree's reports: saved to FILE under LABEL,
//                                                     then deleted so the next run cannot reuse them
//   node scripts/test-totals.mjs --sum FILE...        one line per recorded run, then the line for all
// Each exits 1 when a test failed.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const reportName = "test-results.json";

/** Folders of the workspace packages that have tests. */
function testedFolders() {
  return ["packages", "."]
    .flatMap((base) =>
      readdirSync(join(root, base), { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith(".") && d.name !== "node_modules")
        .map((d) => join(root, base, d.name)),
    )
    .filter((folder) => {
      const pkg = join(folder, "package.json");
      return existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).scripts?.test;
    });
}

function tally(folders) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const folder of folders) {
    const report = join(folder, reportName);
    if (!existsSync(report)) {
      const { name } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
      console.error(`${name}: no test report (its test run did not finish)`);
      totals.failed += 1;
      continue;
    }
    const r = JSON.parse(readFileSync(report, "utf8"));
    totals.passed += r.numPassedTests ?? 0;
    // A suite that failed to load has no failed tests of its own; count it once so it is not lost.
    totals.failed += Math.max(r.numFailedTests ?? 0, r.numFailedTestSuites ?? 0);
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
  return totals;
}

/** The line CI reads. */
function totalsLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
}

// Worded differently from the totals line on purpose, so that a search for "N passed, N failed" can
// only find the sum.
function runLine({ label, passed, failed, skipped }) {
  return `${label}: passed ${passed}, failed ${failed}${skipped ? `, skipped ${skipped}` : ""}`;
}

const [mode, ...args] = process.argv.slice(2);
let failed;
if (mode === undefined) {
  const totals = tally(testedFolders());
  console.log(totalsLine(totals));
  failed = totals.failed;
} else if (mode === "--record" && args.length === 2) {
  const [file, label] = args;
  const folders = testedFolders();
  const run = { label, ...tally(folders) };
  writeFileSync(file, `${JSON.stringify(run)}\n`);
  for (const folder of folders) rmSync(join(folder, reportName), { force: true });
  console.log(runLine(run));
  failed = run.failed;
} else if (mode === "--sum" && args.length > 0) {
  const runs = args.map((file) => JSON.parse(readFileSync(file, "utf8")));
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const run of runs) {
    console.log(runLine(run));
    sum.passed += run.passed;
    sum.failed += run.failed;
    sum.skipped += run.skipped;
  }
  console.log(totalsLine(sum));
  failed = sum.failed;
} else {
  console.error("usage: test-totals.mjs [--record FILE LABEL | --sum FILE...]");
  process.exit(2);
}
process.exit(failed > 0 ? 1 : 0);
