import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  FIXTURES_DIR,
  listFiles,
  md5File,
  readManifest,
  runFerry,
  tempDirForTest,
  writePseudoRandomFile,
} from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { address, describeRun, ferryC, startServer, treeBytes, trustArgs } from "./helpers.js";

const run = promisify(execFile);

/** Asserts a failed run: non-zero exit and the error code in its output. */
function expectFailure(r: Awaited<ReturnType<typeof ferryC>>, code: string): void {
  expect(r.code, describeRun(r)).not.toBe(0);
  expect(r.code, describeRun(r)).not.toBeNull();
  expect(r.stdout + r.stderr, describeRun(r)).toContain(code);
}

describe("hostile remote paths", () => {
  // Each is a remote path a user (or a script fed hostile input) points the client at.
  const hostile = [
    "../escape.txt",
    "../../escape.txt",
    "a/../../escape.txt",
    "./../escape.txt",
    "/../escape.txt",
    "a\\..\\..\\escape.txt",
    `${"n".repeat(256)}.txt`,
  ];

  it.each(hostile)(
    "put to %j gets EBADPATH, non-zero exit, nothing written outside the root",
    async (path) => {
      const base = await tempDirForTest();
      const root = join(base, "root");
      await mkdir(root);
      const server = await startServer({ root });
      const r = await ferryC(server, `put one-byte.bin '${path}'`, { cwd: FIXTURES_DIR });
      expectFailure(r, "EBADPATH");
      expect(await readdir(base)).toEqual(["root"]);
      expect(await treeBytes(root)).toBe(0);
    },
  );

  it.each(hostile.slice(0, 6))("get of %j gets EBADPATH and writes nothing locally", async (path) => {
    const base = await tempDirForTest();
    const root = join(base, "root");
    await mkdir(root);
    // A file where an escape would land, so a missing EBADPATH would show as a successful get.
    await writeFile(join(base, "escape.txt"), "outside the root\n");
    const server = await startServer({ root });
    const local = await tempDirForTest();
    const r = await ferryC(server, `get '${path}' got.txt`, { cwd: local });
    expectFailure(r, "EBADPATH");
    expect(await readdir(local)).toEqual([]);
  });

  it("mkdir and rm outside the root get EBADPATH", async () => {
    const base = await tempDirForTest();
    const root = join(base, "root");
    await mkdir(root);
    await writeFile(join(base, "victim.txt"), "keep me\n");
    const server = await startServer({ root });
    expectFailure(await ferryC(server, "mkdir ../made"), "EBADPATH");
    expectFailure(await ferryC(server, "rm ../victim.txt"), "EBADPATH");
    expect((await readdir(base)).sort()).toEqual(["root", "victim.txt"]);
  });
});

describe("names coming back from the server", () => {
  it("mget -r refuses names with control characters and escape sequences, and never prints them raw", async () => {
    const server = await startServer();
    // Someone with shell access to the server planted these; they are legal file names on Linux.
    const tree = join(server.root, "tree");
    await mkdir(tree);
    await writeFile(join(tree, "fine.txt"), "fine\n");
    await writeFile(join(tree, "evil\x1b[2J\x1b]0;owned\x07.txt"), "escape sequences\n");
    await writeFile(join(tree, "line\nbreak.txt"), "a newline in the name\n");
    const local = await tempDirForTest();
    const r = await ferryC(server, "mget -r tree", { cwd: local });
    expectFailure(r, "EBADPATH");
    expect(r.stdout + r.stderr, describeRun(r)).not.toContain("\x1b");
    expect(r.stdout + r.stderr, describeRun(r)).not.toContain("\x07");
    const written = await listFiles(local);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
    expect(written.filter((n) => /[\x00-\x1f\x7f]/.test(n))).toEqual([]);
  });
});

describe("authentication", () => {
  async function secretServer(): Promise<Awaited<ReturnType<typeof startServer>>> {
    const dir = await tempDirForTest();
    const secretFile = join(dir, "secret");
    await writeFile(secretFile, "the right secret\n");
    return startServer({ args: ["--secret-file", secretFile] });
  }

  it("a wrong secret gets EAUTH and a non-zero exit; the right one works", async () => {
    const server = await secretServer();
    const wrong = await ferryC(server, "ls", { env: { FERRY_SECRET: "a wrong secret" } });
    expectFailure(wrong, "EAUTH");

    const dir = await tempDirForTest();
    const clientSecret = join(dir, "client-secret");
    await writeFile(clientSecret, "the right secret\n");
    const right = await runFerry([
      "--no-progress",
      ...trustArgs(server),
      "--secret-file",
      clientSecret,
      "-c",
      "ls",
      address(server),
    ]);
    expect(right.code, describeRun(right)).toBe(0);
  });

  it("no secret at all, not on a TTY: EAUTH without hanging on a prompt", async () => {
    const server = await secretServer();
    expectFailure(await ferryC(server, "ls"), "EAUTH");
  });
});

describe("full disk", () => {
  it("a small tmpfs fills up: ENOSPC, and the files stored before are intact", async (ctx) => {
    const base = await tempDirForTest();
    const mnt = join(base, "mnt");
    await mkdir(mnt);
    try {
      await run("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt]);
    } catch (e) {
      // Only where the test cannot mount (not root, no CAP_SYS_ADMIN): say why instead of passing.
      console.warn(`full-disk test skipped: cannot mount a tmpfs: ${(e as Error).message}`);
      ctx.skip();
      return;
    }
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const root = join(mnt, "root");
      server = await startServer({ root });
      const manifest = await readManifest();
      const early = ["chunk-65537.bin", "all-bytes.bin", "crlf.txt"];
      const up = await ferryC(server, `mput ${early.join(" ")}`, { cwd: FIXTURES_DIR });
      expect(up.code, describeRun(up)).toBe(0);

      const local = await tempDirForTest();
      const tooBig = join(local, "too-big.bin");
      await writePseudoRandomFile(tooBig, "too big for the tmpfs", 16 * 1024 * 1024);
      const full = await ferryC(server, `put ${tooBig} too-big.bin`);
      expectFailure(full, "ENOSPC");

      // Several files that fit one by one but not together: the disk fills in the middle of one.
      const parts: string[] = [];
      for (let i = 0; i < 4; i++) {
        const p = join(local, `part-${i}.bin`);
        await writePseudoRandomFile(p, `part ${i}`, 3 * 1024 * 1024);
        parts.push(p);
      }
      const midway = await ferryC(server, parts.map((p, i) => `put ${p} part-${i}.bin`).join("; "));
      expectFailure(midway, "ENOSPC");

      // The earlier files are whole, the server still serves, and no file is under a failed name.
      const names = await readdir(root);
      expect(names).not.toContain("too-big.bin");
      for (const name of early) {
        const entry = manifest.files.find((f) => f.path === `files/${name}`)!;
        expect(await md5File(join(root, name))).toBe(entry.md5);
      }
      const back = await tempDirForTest();
      const down = await ferryC(server, `mget ${early.join(" ")}`, { cwd: back });
      expect(down.code, describeRun(down)).toBe(0);
      for (const name of early) {
        const entry = manifest.files.find((f) => f.path === `files/${name}`)!;
        expect(await md5File(join(back, name))).toBe(entry.md5);
      }
      // A failed upload leaves no staging bytes eating the space: a file that fits in what is left goes up.
      const after = await ferryC(server, "put lf.txt after.txt", { cwd: FIXTURES_DIR });
      expect(after.code, describeRun(after)).toBe(0);
    } finally {
      await server?.stop("SIGKILL");
      await run("umount", ["-l", mnt]).catch(() => undefined);
    }
    expect(existsSync(join(mnt, "root"))).toBe(false);
  });
});
