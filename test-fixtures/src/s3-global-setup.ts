import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { planS3, stopRgw } from "./object-store.js";
import { removeDir } from "./temp-dir.js";

/**
 * vitest globalSetup for packages with S3 tests: decides once per run where the store is (see
 * planS3) and gives the plan to the test files (`inject("ferryS3")`). An RGW is started by the
 * first test that needs one, in a temp dir of this run, and stopped and removed here at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), "ferry-rgw-"));
  const plan = await planS3(process.env, dir);
  project.provide("ferryS3", plan);
  return async () => {
    await stopRgw(dir).catch((err) => console.error(`stopping the test RGW: ${(err as Error).message}`));
    await removeDir(dir);
  };
}
