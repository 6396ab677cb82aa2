import { readFile, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLineErrors, world, writeFiles } from "./helpers.js";

const host = (port: number): string => `127.0.0.1:${port}`;
const PAST = 1_600_000_000_123;
const mtime = async (p: string) => Math.floor((await stat(p)).mtimeMs);

// Plain TCP: these are about the commands, not the transport.
const plain = ["--no-tls", "--no-progress"];

describe("ferry: mtimes, sum and mirror at the command line", () => {
  it("-p on put, get, mput and mget keeps mtimes; without it the copy is dated now", async () => {
    const w = await world(["--no-tls"]);
    await writeFiles(w.local, { "a.txt": "a", "m/b.txt": "b", "m/c.txt": "c", "out/.keep": "" });
    for (const f of ["a.txt", "m/b.txt", "m/c.txt"])
      await utimes(path.join(w.local, f), PAST / 1000, (PAST + 0.5) / 1000);
    const r = await w.ferry([
      host(w.port),
      ...plain,
      "-c",
      "put -p a.txt; put a.txt now.txt; mput -rp m; get -p a.txt back.txt; lcd out; mget -rp m",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await mtime(path.join(w.root, "a.txt"))).toBe(PAST);
    expect(await mtime(path.join(w.root, "now.txt"))).toBeGreaterThan(PAST + 60_000);
    expect(await mtime(path.join(w.root, "m/b.txt"))).toBe(PAST);
    expect(await mtime(path.join(w.local, "back.txt"))).toBe(PAST);
    expect(await mtime(path.join(w.local, "out/m/c.txt"))).toBe(PAST);
  });

  it("sum prints md5sum-style lines (globs too), and JSON lines with --json", async () => {
    const w = await world(["--no-tls"]);
    await writeFiles(w.root, { "x.txt": "hello", "y.txt": "" });
    const r = await w.ferry([host(w.port), ...plain, "-c", "sum x.txt; sum *.txt"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("5d41402abc4b2a76b9719d911017c592  /x.txt\n");
    expect(r.stdout).toContain("d41d8cd98f00b204e9800998ecf8427e  /y.txt\n");
    const j = await w.ferry([host(w.port), ...plain, "--json", "-c", "sum x.txt"]);
    expect(JSON.parse(j.stdout.trim().split("\n").pop() as string)).toMatchObject({
      kind: "sum",
      path: "/x.txt",
      size: 5,
      md5: "5d41402abc4b2a76b9719d911017c592",
    });
    const missing = await w.ferry([host(w.port), ...plain, "-c", "sum nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("ENOENT");
    // With several paths, each failure is a line with its code, the sums of the others are printed,
    // and the command fails with the first failure.
    const some = await w.ferry([host(w.port), ...plain, "-c", "sum x.txt nope y.txt"]);
    expect(some.code).toBe(1);
    expect(some.stdout).toContain("5d41402abc4b2a76b9719d911017c592  /x.txt\n");
    expect(some.stdout).toContain("d41d8cd98f00b204e9800998ecf8427e  /y.txt\n");
    expect(some.stderr).toMatch(/^sum \/nope: ENOENT: .*$/m);
    expect(some.stderr).toMatch(/^ferry: sum x\.txt nope y\.txt: ENOENT: /m);
  });

  it("mirror: the plan with -n, then the run, then nothing; a TARGET ending in / takes the source's name", async () => {
    const w = await world(["--no-tls"]);
    await writeFiles(w.local, {
      "site/index.html": "<h1>hi</h1>",
      "site/css/a.css": "a{}",
      "site/a.log": "x",
    });
    const dry = await w.ferry([host(w.port), ...plain, "-c", "mirror -R -n --exclude '*.log' site /www/"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would mkdir /www/site/css");
    expect(dry.stdout).toMatch(/^would put site\/index\.html → \/www\/site\/index\.html \(new, 11 B\)$/m);
    expect(dry.stdout).not.toContain("a.log");
    expect(dry.stdout).toContain("mirror dry run, nothing changed: 2 to transfer (14 B), 1 new dir");
    const run = await w.ferry([host(w.port), ...plain, "-c", "mirror -R --exclude '*.log' site /www/"]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(path.join(w.root, "www/site/css/a.css"), "utf8")).toBe("a{}");
    const again = await w.ferry([host(w.port), ...plain, "-c", "mirror -R --exclude '*.log' site /www/"]);
    expect(again.stdout).toContain(
      "mirror: 0 transferred (0 B), 0 new dirs, 0 deleted, 2 unchanged, 1 excluded",
    );

    await writeFile(path.join(w.local, "site/index.html"), "<h1>hello</h1>");
    const back = await w.ferry([host(w.port), ...plain, "-c", "mirror --delete /www/site copy"]);
    expect(back.code, back.stderr).toBe(0);
    expect(await readFile(path.join(w.local, "copy/index.html"), "utf8")).toBe("<h1>hi</h1>");
  });

  it("mirror's usage errors are one line and name the option", async () => {
    const w = await world(["--no-tls"]);
    for (const [command, named] of [
      ["mirror --bogus x", "--bogus"],
      ["mirror --max-delete many x", "--max-delete"],
      ["mirror -L x", "-L"],
      ["mirror a b c", "mirror [-R]"],
    ] as const) {
      const r = await w.ferry([host(w.port), ...plain, "-c", command]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("EUSAGE");
      expect(r.stderr).toContain(named);
      expectOneLineErrors(r.stderr);
    }
  });
});
