import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ensureEmptyDirs,
  FIXTURES_PACKAGE_DIR,
  type Manifest,
  md5File,
  readManifest,
  runFerry,
  spawnFerryd,
  tempDirForTest,
  writePseudoRandomFile,
} from "@ferry/test-fixtures";
import { s3PlaceForTest, s3SkipReason } from "@ferry/test-fixtures/s3";
import { beforeAll, describe, expect, it } from "vitest";
import { address, describeRun, ferryC, trustArgs } from "./helpers.js";
import { expectFixtureTree } from "./tree.js";

/**
 * The real `ferry` against the real `ferryd --storage s3://…` (TLS, pinned) on the run's object
 * store: what a user does, with a bucket where the disk was.
 */
const skip = await s3SkipReason();
let manifest: Manifest;
beforeAll(async () => {
  manifest = await readManifest();
  await ensureEmptyDirs();
});

async function s3Ferryd() {
  const place = await s3PlaceForTest();
  const server = await spawnFerryd({
    args: ["--storage", place.url, "--s3-endpoint", place.endpoint.endpoint],
    env: place.env,
  });
  return { place, server };
}

describe.skipIf(skip !== null)(`ferry against ferryd on S3${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("put, ls, sum and get of a 20 MiB file (a multipart upload) round trip, md5-verified", async () => {
    const { server } = await s3Ferryd();
    const dir = await tempDirForTest();
    const src = join(dir, "big.bin");
    await writePseudoRandomFile(src, "s3-e2e", 20 * 1024 * 1024 + 123);
    const want = await md5File(src);
    const up = await ferryC(server, "mkdir data; put big.bin data/big.bin; sum data/big.bin; ls data", {
      cwd: dir,
    });
    expect(up.code, describeRun(up)).toBe(0);
    expect(up.stdout).toContain(want);
    await mkdir(join(dir, "down"));
    const down = await ferryC(server, "get data/big.bin", { cwd: join(dir, "down") });
    expect(down.code, describeRun(down)).toBe(0);
    expect(await md5File(join(dir, "down", "big.bin"))).toBe(want);
  });

  it("mput -r then mget -r of the fixture tree: every byte, every name, every empty directory", async () => {
    const { server } = await s3Ferryd();
    const batch = join(await tempDirForTest(), "up.ferry");
    await writeFile(batch, "mput -r files\nls files\n");
    const up = await runFerry(["--no-progress", ...trustArgs(server), "-b", batch, address(server)], {
      cwd: FIXTURES_PACKAGE_DIR,
    });
    expect(up.code, describeRun(up)).toBe(0);
    const fresh = await tempDirForTest("ferry-e2e-s3-down-");
    const down = await ferryC(server, "mget -r files", { cwd: fresh });
    expect(down.code, describeRun(down)).toBe(0);
    await expectFixtureTree(join(fresh, "files"), manifest);
  });
});
