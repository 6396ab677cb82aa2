import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ensureEmptyDirs,
  isRunning,
  listFiles,
  type Manifest,
  md5File,
  readManifest,
  relativeToFilesDir,
  tempDirForTest,
  writePseudoRandomFile,
} from "@ferry/test-fixtures";
import { beforeAll, describe, expect, it } from "vitest";
import {
  describeRun,
  ferryC,
  jsonLines,
  q,
  spawnFerryC,
  startServer,
  transferResults,
  treeBytes,
  waitUntil,
} from "./helpers.js";
import { expectFixtureTree, FIXTURES_DIR } from "./tree.js";

let manifest: Manifest;
beforeAll(async () => {
  manifest = await readManifest();
  await ensureEmptyDirs();
});

const MiB = 1024 * 1024;

/** Every file's mtime (ms) below `dir`, by relative path. */
async function mtimes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const rel of await listFiles(dir)) out[rel] = Math.floor((await stat(join(dir, rel))).mtimeMs);
  return out;
}

/** The closing `{"kind":"mirror",...}` line of a --json mirror. */
function summary(stdout: string): Record<string, unknown> {
  const found = jsonLines(stdout).filter((o) => o.kind === "mirror");
  expect(found, stdout).toHaveLength(1);
  return found[0] as Record<string, unknown>;
}

/** Names, sizes and md5s of everything below `dir` (staging folder included): equal means untouched. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(d, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await walk(full, r);
      } else out.push(`${r} ${(await stat(full)).size} ${await md5File(full)}`);
    }
  };
  await walk(dir, "");
  return out;
}

describe("mirror with the real binaries", () => {
  it("mirror -R of the fixture tree, then mirror back into a fresh folder: same bytes, same mtimes; again: nothing", async () => {
    const server = await startServer();
    const up = await ferryC(server, `mirror -R ${q(FIXTURES_DIR)} /site`, { extra: ["--json"] });
    expect(up.code, describeRun(up)).toBe(0);
    expect(summary(up.stdout)).toMatchObject({ transfers: manifest.files.length, dryRun: false });
    await expectFixtureTree(join(server.root, "site"), manifest);
    expect(await mtimes(join(server.root, "site"))).toEqual(await mtimes(FIXTURES_DIR));

    const fresh = await tempDirForTest("ferry-e2e-mirror-");
    const down = await ferryC(server, "mirror /site copy", { cwd: fresh, extra: ["--json"] });
    expect(down.code, describeRun(down)).toBe(0);
    await expectFixtureTree(join(fresh, "copy"), manifest);
    expect(await mtimes(join(fresh, "copy"))).toEqual(await mtimes(FIXTURES_DIR));

    // Nothing changed: nothing moves, either way.
    for (const command of [`mirror -R ${q(FIXTURES_DIR)} /site`, "mirror /site copy"]) {
      const again = await ferryC(server, command, { cwd: fresh, extra: ["--json"] });
      expect(again.code, describeRun(again)).toBe(0);
      expect(transferResults(again.stdout)).toEqual([]);
      expect(summary(again.stdout)).toMatchObject({
        transfers: 0,
        sent: 0,
        unchanged: manifest.files.length,
      });
    }

    // And the server's md5 of each file, without a download, is the manifest's.
    const entry = manifest.files.find((f) => f.path.endsWith("all-bytes.bin"))!;
    const sum = await ferryC(server, `sum /site/${relativeToFilesDir(entry)}`);
    expect(sum.code, describeRun(sum)).toBe(0);
    expect(sum.stdout).toContain(`${entry.md5}  /site/${relativeToFilesDir(entry)}`);
  });

  it("--delete --dry-run prints the plan and changes nothing; --max-delete refuses before changing anything", async () => {
    const server = await startServer();
    const up = await ferryC(server, `mirror -R ${q(FIXTURES_DIR)} /site`);
    expect(up.code, describeRun(up)).toBe(0);
    await writeFile(join(server.root, "site", "stale-1.txt"), "gone from the source");
    await writeFile(join(server.root, "site", "stale-2.txt"), "gone too");
    await mkdir(join(server.root, "site", "stale-dir"));
    const before = await snapshot(server.root);

    const dry = await ferryC(server, `mirror -R --delete --dry-run ${q(FIXTURES_DIR)} /site`);
    expect(dry.code, describeRun(dry)).toBe(0);
    expect(dry.stdout).toContain("would delete /site/stale-1.txt");
    expect(dry.stdout).toContain("would delete /site/stale-dir/");
    expect(dry.stdout).toContain("dry run, nothing changed");
    expect(await snapshot(server.root)).toEqual(before);

    const refused = await ferryC(server, `mirror -R --delete --max-delete 2 ${q(FIXTURES_DIR)} /site`);
    expect(refused.code, describeRun(refused)).toBe(1);
    expect(refused.stderr).toContain("EMAXDELETE");
    expect(await snapshot(server.root)).toEqual(before);

    const ok = await ferryC(server, `mirror -R --delete --max-delete 3 ${q(FIXTURES_DIR)} /site`, {
      extra: ["--json"],
    });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(summary(ok.stdout)).toMatchObject({ deletes: 3 });
    await expectFixtureTree(join(server.root, "site"), manifest);
  });

  it("a mirror killed mid-run (kill -9 of the client), run again: converges, resuming the big file", async () => {
    const server = await startServer();
    const src = await tempDirForTest("ferry-e2e-mirror-src-");
    await writePseudoRandomFile(join(src, "big.bin"), "mirror-big", 96 * MiB);
    for (let i = 0; i < 100; i++) await writeFile(join(src, `small-${i}.txt`), `small file ${i}\n`);
    const command = `mirror -R ${q(src)} /site`;
    const first = spawnFerryC(server, command, { extra: ["--json"] });
    await waitUntil(
      "the big upload to be under way",
      async () => (await treeBytes(server.root)) >= 24 * MiB,
      {
        alive: () => isRunning(first.proc),
        context: () => `client stderr: ${first.stderr()}\nserver stderr: ${server.stderr()}`,
      },
    );
    const killed = await first.kill("SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    expect(await readdir(join(server.root, "site")).catch(() => [])).not.toContain("big.bin");

    const again = await ferryC(server, command, { extra: ["--json"] });
    expect(again.code, describeRun(again)).toBe(0);
    const big = transferResults(again.stdout).find((r) => (r as { to?: string }).to === "/site/big.bin") as
      | { resumedFrom?: number; transferred: number }
      | undefined;
    expect(big?.resumedFrom, describeRun(again)).toBeGreaterThan(0);
    expect(big?.transferred).toBeLessThan(96 * MiB);
    expect(await snapshot(join(server.root, "site"))).toEqual(await snapshot(src));
    const third = await ferryC(server, command, { extra: ["--json"] });
    expect(summary(third.stdout)).toMatchObject({ transfers: 0 });
  });
});

describe("rate limits with the real binaries", () => {
  const RATE = 1024 * 1024;
  const SIZE = 3 * MiB;
  // Lower bounds only: at three times the limit a transfer would be far too fast, whatever the load.
  const atLeastMs = (SIZE / (3 * RATE)) * 1000;

  it("ferry --limit-rate 1M: an upload and a download are no faster than the limit", async () => {
    const server = await startServer();
    const dir = await tempDirForTest();
    await writePseudoRandomFile(join(dir, "rate.bin"), "rate", SIZE);
    let started = performance.now();
    const up = await ferryC(server, "put rate.bin", { cwd: dir, extra: ["--limit-rate", "1M"] });
    expect(up.code, describeRun(up)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs);
    started = performance.now();
    const down = await ferryC(server, "get rate.bin back.bin", { cwd: dir, extra: ["--limit-rate", "1M"] });
    expect(down.code, describeRun(down)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs);
    expect(await md5File(join(dir, "back.bin"))).toBe(await md5File(join(dir, "rate.bin")));
  });

  it("ferryd --max-rate 1M: a download from it is no faster than the limit", async () => {
    const server = await startServer({ args: ["--max-rate", "1M"] });
    await writePseudoRandomFile(join(server.root, "rate.bin"), "rate", SIZE);
    const dir = await tempDirForTest();
    const started = performance.now();
    const down = await ferryC(server, "get rate.bin", { cwd: dir });
    expect(down.code, describeRun(down)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs);
  });

  it("a bad rate is a usage error before connecting", async () => {
    const server = await startServer();
    const r = await ferryC(server, "ls", { extra: ["--limit-rate", "fast"] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--limit-rate");
  });
});
