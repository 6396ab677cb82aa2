import { copyFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  ensureGenerated,
  GENERATED_FIXTURES,
  type GeneratedManifestEntry,
  generatedEntry,
  isRunning,
  md5File,
  readManifest,
  spawnFerryd,
  tempDirForTest,
} from "@ferry/test-fixtures";
import { beforeAll, describe, expect, it } from "vitest";
import {
  describeRun,
  ferryC,
  sizeOf,
  spawnFerryC,
  startServer,
  transferResults,
  treeBytes,
  waitUntil,
} from "./helpers.js";

// Kill once this much has arrived: far enough in to leave a partial worth resuming, far enough from
// the end that even a fast machine cannot finish the transfer between the check and the kill.
const KILL_AFTER = 24 * 1024 * 1024;

let big: string;
let entry: GeneratedManifestEntry;
beforeAll(async () => {
  big = await ensureGenerated(GENERATED_FIXTURES.random256M);
  entry = generatedEntry(await readManifest(), "random256M");
});

/** Asserts the rerun resumed: it succeeded, moved fewer bytes than the file, and reported the right md5. */
function expectResumed(run: Awaited<ReturnType<typeof ferryC>>): void {
  expect(run.code, describeRun(run)).toBe(0);
  const results = transferResults(run.stdout);
  expect(results, describeRun(run)).toHaveLength(1);
  expect(results[0]!.transferred).toBeGreaterThan(0);
  expect(results[0]!.transferred).toBeLessThan(entry.size);
  expect(results[0]!.md5).toBe(entry.md5);
}

describe("interrupted transfers resume", () => {
  it("kill -9 of the client mid-upload, then the same command again", async () => {
    const server = await startServer();
    const command = `put ${big} big.bin`;
    const first = spawnFerryC(server, command, { extra: ["--json"] });
    await waitUntil("the upload to be under way", async () => (await treeBytes(server.root)) >= KILL_AFTER, {
      alive: () => isRunning(first.proc),
      context: () => `client stderr: ${first.stderr()}\nserver stderr: ${server.stderr()}`,
    });
    const killed = await first.kill("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    // Nothing under the real name until an upload is complete and verified.
    expect(await readdir(server.root)).not.toContain("big.bin");

    const again = await ferryC(server, command, { extra: ["--json"] });
    expectResumed(again);
    expect(await md5File(join(server.root, "big.bin"))).toBe(entry.md5);
  });

  it("kill -9 of the client mid-download, then the same command again", async () => {
    const server = await startServer();
    await copyFile(big, join(server.root, "big.bin"));
    const local = await tempDirForTest("ferry-e2e-down-");
    const command = "get big.bin";
    const first = spawnFerryC(server, command, { cwd: local, extra: ["--json"] });
    await waitUntil("the download to be under way", async () => (await treeBytes(local)) >= KILL_AFTER, {
      alive: () => isRunning(first.proc),
      context: () => `client stderr: ${first.stderr()}`,
    });
    await first.kill("SIGKILL");
    expect(await readdir(local)).not.toContain("big.bin");
    expect(await sizeOf(join(local, "big.bin.part"))).toBeGreaterThan(0);

    const again = await ferryC(server, command, { cwd: local, extra: ["--json"] });
    expectResumed(again);
    expect(await md5File(join(local, "big.bin"))).toBe(entry.md5);
    expect(await readdir(local)).toEqual(["big.bin"]);
  });

  it("kill -9 of the server mid-upload, restart on the same root, then the same command again", async () => {
    const root = await tempDirForTest("ferry-e2e-root-");
    const server = await startServer({ root });
    const command = `put ${big} big.bin`;
    const first = spawnFerryC(server, command, { extra: ["--json"] });
    await waitUntil("the upload to be under way", async () => (await treeBytes(root)) >= KILL_AFTER, {
      alive: () => isRunning(first.proc),
      context: () => `client stderr: ${first.stderr()}\nserver stderr: ${server.stderr()}`,
    });
    await server.stop("SIGKILL");
    const cut = await first.done;
    expect(cut.code, describeRun(cut)).not.toBe(0);
    expect(await readdir(root)).not.toContain("big.bin");

    // The same state directory: the restarted server has the same certificate the client pinned.
    const restarted = await spawnFerryd({ root, stateDir: server.stateDir });
    expect(await readdir(root)).not.toContain("big.bin");
    const again = await ferryC(restarted, command, { extra: ["--json"] });
    expectResumed(again);
    expect(await md5File(join(root, "big.bin"))).toBe(entry.md5);
  });
});
