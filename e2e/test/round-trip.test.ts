import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ensureEmptyDirs,
  FIXTURES_PACKAGE_DIR,
  type Manifest,
  md5File,
  readManifest,
  runFerry,
  tempDirForTest,
} from "@ferry/test-fixtures";
import { beforeAll, describe, expect, it } from "vitest";
import { address, describeRun, ferryC, startServer, trustArgs } from "./helpers.js";
import { expectFixtureTree, FIXTURES_DIR } from "./tree.js";

let manifest: Manifest;
beforeAll(async () => {
  manifest = await readManifest();
  await ensureEmptyDirs();
});

// The whole suite over TLS (the default) and again over plain TCP (ferryd --no-tls, ferry --no-tls).
describe.each([
  { transport: "TLS", plain: false },
  { transport: "plain TCP", plain: true },
])("round trip of the fixture tree over $transport", ({ plain }) => {
  it("mput -r then mget -r (batch file): every byte, every name, every empty directory", async () => {
    const server = await startServer({ plain });
    const batch = join(await tempDirForTest(), "up.ferry");
    await writeFile(batch, "# upload the whole fixture tree\nmput -r files\nls files\n");
    // Run from the fixtures package so that `files` is a relative local path, as a user would type it.
    const up = await runFerry(["--no-progress", ...trustArgs(server), "-b", batch, address(server)], {
      cwd: FIXTURES_PACKAGE_DIR,
    });
    expect(up.code, describeRun(up)).toBe(0);
    // What the server stored is the tree, before any download could hide a fault.
    await expectFixtureTree(join(server.root, "files"), manifest);

    const fresh = await tempDirForTest("ferry-e2e-down-");
    const down = await ferryC(server, "mget -r files", { cwd: fresh });
    expect(down.code, describeRun(down)).toBe(0);
    await expectFixtureTree(join(fresh, "files"), manifest);
  });

  it("put and get of names with spaces, quotes, CJK and emoji, quoted on the command line", async () => {
    const server = await startServer({ plain });
    const name = `spaces 'n "quotes" 名前 🚢.txt`;
    const entry = manifest.files.find((f) => f.path === `files/${name}`)!;
    expect(entry).toBeDefined();
    const quoted = `"${name.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
    const up = await ferryC(server, `put ${quoted} ${quoted}`, { cwd: FIXTURES_DIR });
    expect(up.code, describeRun(up)).toBe(0);
    expect(await md5File(join(server.root, name))).toBe(entry.md5);

    const fresh = await tempDirForTest();
    const down = await ferryC(server, `get ${quoted}`, { cwd: fresh });
    expect(down.code, describeRun(down)).toBe(0);
    expect(await md5File(join(fresh, name))).toBe(entry.md5);
  });

  it("commands piped on stdin (not a TTY) work like -c, and the exit status reflects a failure", async () => {
    const server = await startServer({ plain });
    const fresh = await tempDirForTest();
    await mkdir(join(fresh, "out"));
    const ok = await runFerry(["--no-progress", ...trustArgs(server), address(server)], {
      cwd: FIXTURES_DIR,
      input:
        "mkdir piped\nput crlf.txt piped/crlf.txt\nget piped/crlf.txt " +
        join(fresh, "out", "crlf.txt") +
        "\n",
    });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(await md5File(join(fresh, "out", "crlf.txt"))).toBe(
      manifest.files.find((f) => f.path === "files/crlf.txt")!.md5,
    );

    const failing = await runFerry(["--no-progress", ...trustArgs(server), address(server)], {
      cwd: FIXTURES_DIR,
      input: "get does-not-exist.bin\nput lf.txt after-failure.txt\n",
    });
    expect(failing.code, describeRun(failing)).not.toBe(0);
    expect(failing.stdout + failing.stderr).toContain("ENOENT");
    // Batch semantics: the first failure stops the run.
    expect(existsSync(join(server.root, "after-failure.txt"))).toBe(false);
  });
});
