import { randomBytes } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLineErrors, world, writeFiles } from "./helpers.js";

/** A served folder's names, without the server's own hidden staging folder. */
const names = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((n) => !n.startsWith(".ferry")).sort();

const host = (port: number): string => `127.0.0.1:${port}`;

/** stderr without the status line that says where ferry connected (it goes to stderr, not stdout). */
const problems = (stderr: string): string[] =>
  stderr.split("\n").filter((l) => l !== "" && !l.startsWith("connected to "));

describe("ferry -c", () => {
  it("puts, lists and gets back a file, printing one line per transfer with the md5 result", async () => {
    const w = await world();
    const data = randomBytes(200_000);
    await writeFile(path.join(w.local, "a.bin"), data);
    const r = await w.ferry(
      [host(w.port), "-c", "put a.bin; ls -l; lcd out; get a.bin", "--no-progress"],
      {},
    );
    // lcd into a missing folder fails: the run stops there.
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^put a\.bin → \/a\.bin 195\.3 KiB \S+ \S+ md5 ok$/m);
    expect(r.stdout).toMatch(/^- 200000 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}a\.bin$/m);
    expect(r.stderr).toMatch(/^ferry: lcd out: ENOENT: /m);
    expect((await readFile(path.join(w.root, "a.bin"))).equals(data)).toBe(true);

    await writeFiles(w.local, { "out/.keep": "" });
    const r2 = await w.ferry([host(w.port), "-c", "lcd out; get a.bin; get /a.bin copy.bin"]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/^get \/a\.bin → a\.bin 195\.3 KiB .* md5 ok$/m);
    expect(r2.stdout).toMatch(/^get \/a\.bin → copy\.bin 195\.3 KiB .* md5 ok$/m);
    expect((await readFile(path.join(w.local, "out", "a.bin"))).equals(data)).toBe(true);
    expect((await readFile(path.join(w.local, "out", "copy.bin"))).equals(data)).toBe(true);
  });

  it("stops at the first failure with a one-line error and exit 1; a leading - goes on", async () => {
    const w = await world();
    await writeFiles(w.local, { "a.txt": "hello\n" });
    const r = await w.ferry([host(w.port), "-c", "get missing.txt; put a.txt"]);
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([expect.stringMatching(/^ferry: get missing\.txt: ENOENT: /)]);
    expectOneLineErrors(r.stderr);
    await expect(stat(path.join(w.root, "a.txt"))).rejects.toMatchObject({ code: "ENOENT" });

    const r2 = await w.ferry([host(w.port), "-c", "-get missing.txt; put a.txt"]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/^ferry: get missing\.txt: ENOENT: /m);
    expect(await readFile(path.join(w.root, "a.txt"), "utf8")).toBe("hello\n");
  });

  it("runs every -c in order, as one list: a failure stops the later ones too", async () => {
    const w = await world();
    await writeFiles(w.local, { "a.txt": "hello\n", "b.txt": "bye\n" });
    const r = await w.ferry([host(w.port), "-c", "put a.txt", "-c", "ls; put b.txt", "--no-progress"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^put a\.txt → \/a\.txt /m);
    expect(r.stdout).toMatch(/^a\.txt$/m);
    expect(await names(w.root)).toEqual(["a.txt", "b.txt"]);

    const r2 = await w.ferry([host(w.port), "-c", "get missing.txt", "-c", "rm a.txt"]);
    expect(r2.code).toBe(1);
    expect(problems(r2.stderr)).toEqual([expect.stringMatching(/^ferry: get missing\.txt: ENOENT: /)]);
    expect(await names(w.root)).toEqual(["a.txt", "b.txt"]);
  });

  it("refuses to overwrite without a terminal unless --yes", async () => {
    const w = await world();
    await writeFiles(w.local, { "a.txt": "new" });
    await writeFiles(w.root, { "a.txt": "old" });
    const r = await w.ferry([host(w.port), "-c", "put a.txt"]);
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "ferry: put a.txt: EEXIST: /a.txt already exists; use --yes or rm it first",
    ]);
    expect(await readFile(path.join(w.root, "a.txt"), "utf8")).toBe("old");

    const r2 = await w.ferry([host(w.port), "--yes", "-c", "put a.txt"]);
    expect(r2.code).toBe(0);
    expect(await readFile(path.join(w.root, "a.txt"), "utf8")).toBe("new");

    // The same for a local target of get.
    await writeFiles(w.local, { "b.txt": "local" });
    await writeFiles(w.root, { "b.txt": "remote" });
    const r3 = await w.ferry([host(w.port), "-c", "get b.txt"]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/^ferry: get b\.txt: EEXIST: b\.txt already exists; use --yes to overwrite$/m);
    expect(await readFile(path.join(w.local, "b.txt"), "utf8")).toBe("local");
  });

  it("handles quoted names with spaces and unicode, cd, pwd, mkdir -p, rename, stat, rm", async () => {
    const w = await world();
    await writeFiles(w.local, { "my file ☃.txt": "snow" });
    const script = [
      "mkdir -p 'docs/2025 notes'",
      "cd docs/2025\\ notes",
      "pwd",
      `put "my file ☃.txt"`,
      `rename "my file ☃.txt" renamed.txt`,
      "stat renamed.txt",
      "cd ..",
      "pwd",
      "-cd missing",
      "-cd '2025 notes/renamed.txt'",
      "pwd",
      "rm '2025 notes/renamed.txt'",
      "rmdir '2025 notes'",
      "ls",
    ].join("; ");
    const r = await w.ferry([host(w.port), "-c", script]);
    expect(r.stderr).toMatch(/^ferry: cd missing: ENOENT: /m);
    expect(r.stderr).toMatch(/^ferry: cd '2025 notes\/renamed\.txt': ENOTDIR: /m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("/docs/2025 notes\n");
    expect(r.stdout).toMatch(/^put my file ☃\.txt → \/docs\/2025 notes\/my file ☃\.txt 4 B .* md5 ok$/m);
    expect(r.stdout).toMatch(/^size: {2}4 \(4 B\)$/m);
    expect(r.stdout.match(/^\/docs$/gm)).toHaveLength(2);
    expect(await names(path.join(w.root, "docs"))).toEqual([]);
  });
});

describe("ferry -b and stdin", () => {
  it("moves a directory tree both ways with mput -r / mget -r from a batch file", async () => {
    const w = await world();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 150; i++) files[`tree/d${i % 5}/f${i}.bin`] = randomBytes(i * 13);
    files["tree/top.txt"] = Buffer.from("top");
    await writeFiles(w.local, files);
    await writeFiles(w.local, { "back/.keep": "" });
    await writeFile(
      path.join(w.local, "script.ferry"),
      "# upload the tree, then fetch it into back/\n\nmput -r tree\nlcd back\nmget -r tree\n",
    );
    const r = await w.ferry([host(w.port), "-b", "script.ferry"]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^put .* md5 ok$/gm)).toHaveLength(151);
    expect(r.stdout.match(/^get .* md5 ok$/gm)).toHaveLength(151);
    for (const [name, content] of Object.entries(files)) {
      expect((await readFile(path.join(w.root, name))).equals(content)).toBe(true);
      expect((await readFile(path.join(w.local, "back", name))).equals(content)).toBe(true);
    }
  });

  it("mput/mget globs pick only matching files; no match is an error", async () => {
    const w = await world();
    await writeFiles(w.local, { "a.txt": "a", "b.txt": "b", "c.log": "c", ".hidden.txt": "h" });
    const r = await w.ferry([host(w.port), "-c", "mput *.txt; ls"]);
    expect(r.code).toBe(0);
    expect(await names(w.root)).toEqual(["a.txt", "b.txt"]);
    const r2 = await w.ferry([host(w.port), "-c", "mput *.nothing"]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^ferry: mput \*\.nothing: ENOENT: no local match for \*\.nothing$/m);
    await writeFiles(w.local, { "dl/.keep": "" });
    const r3 = await w.ferry([host(w.port), "-c", "lcd dl; mget [a]*"]);
    expect(r3.code).toBe(0);
    expect((await readdir(path.join(w.local, "dl"))).sort()).toEqual([".keep", "a.txt"]);
  });

  it("reads commands from piped stdin, skips comments, and fails on the first error", async () => {
    const w = await world();
    await writeFiles(w.root, { "x.txt": "x" });
    const ok = await w.ferry([host(w.port)], { input: "# listing\nls -l\npwd\n" });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^- 1 {2}.* x\.txt$/m);
    expect(ok.stdout).not.toContain("ftp>");
    const bad = await w.ferry([host(w.port)], { input: "rm nope\nrm x.txt\n" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ferry: rm nope: ENOENT: /m);
    expect(await readFile(path.join(w.root, "x.txt"), "utf8")).toBe("x");
  });

  it("rm of several files through a glob needs --yes without a terminal", async () => {
    const w = await world();
    await writeFiles(w.root, { "a.tmp": "", "b.tmp": "", "keep.txt": "" });
    const r = await w.ferry([host(w.port), "-c", "rm *.tmp"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ferry: rm \*\.tmp: ENOTTY: delete 2 files\? cannot be asked without a terminal; use --yes$/m,
    );
    expect(await names(w.root)).toEqual(["a.tmp", "b.tmp", "keep.txt"]);
    const r2 = await w.ferry([host(w.port), "--yes", "-c", "rm *.tmp"]);
    expect(r2.code).toBe(0);
    expect(await names(w.root)).toEqual(["keep.txt"]);
  });
});

describe("ferry --json", () => {
  it("prints one JSON object per line for ls, transfers and errors", async () => {
    const w = await world();
    await writeFiles(w.local, { "a.txt": "hello" });
    await writeFiles(w.root, { "sub/x": "" });
    const r = await w.ferry([host(w.port), "--json", "-c", "put a.txt; ls; -get nope"]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({
      kind: "transfer",
      op: "put",
      from: "a.txt",
      to: "/a.txt",
      size: 5,
      md5: "5d41402abc4b2a76b9719d911017c592",
      check: "ok",
    });
    expect(lines.slice(1, 3)).toEqual([
      expect.objectContaining({ kind: "entry", path: "/a.txt", name: "a.txt", type: "file", size: 5 }),
      expect.objectContaining({ kind: "entry", path: "/sub", name: "sub", type: "dir" }),
    ]);
    expect(lines[3]).toMatchObject({ kind: "error", command: "get nope", code: "ENOENT" });
    expect(lines).toHaveLength(4);
  });
});

describe("ferry options and connection", () => {
  it("--help, --version and bad options", async () => {
    const w = await world();
    const help = await w.ferry(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: ferry \[options\] \[\[user@\]host\[:port\]\]/);
    const version = await w.ferry(["--version"]);
    expect(version.stdout).toMatch(/^ferry \d+\.\d+\.\d+\n$/);
    const bad = await w.ferry(["--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ferry: .*--bogus/);
    const port = await w.ferry(["--port", "99999", "127.0.0.1"]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^ferry: invalid port "99999"$/m);
  });

  it("reports a refused connection and commands without one", async () => {
    const w = await world();
    const refused = await w.ferry(["127.0.0.1:1", "-c", "ls"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ferry: open 127\.0\.0\.1:1: ECONNREFUSED: /m);
    const none = await w.ferry(["-c", "ls"]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe("ferry: ls: ENOTCONN: not connected; use open HOST[:PORT]");
    const opened = await w.ferry([
      "--port",
      String(w.port),
      "-c",
      "open 127.0.0.1; pwd; close; -pwd; open 127.0.0.1",
    ]);
    expect(opened.code).toBe(0);
    expect(opened.stderr.match(/^connected to 127\.0\.0\.1:\d+ \(ferryd\/[\d.]+\)$/gm)).toHaveLength(2);
  });

  it("authenticates with --secret-file or FERRY_SECRET and explains a missing secret", async () => {
    const w = await world([]);
    const dir = path.dirname(w.root);
    await writeFile(path.join(dir, "secret"), "s3cret\n");
    const secure = await world(["--secret-file", path.join(dir, "secret")]);
    const none = await secure.ferry([host(secure.port), "-c", "pwd"]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(
      `ferry: open ${host(secure.port)}: EAUTH: the server requires a secret; give it with --secret-file FILE or FERRY_SECRET`,
    );
    const file = await secure.ferry([
      host(secure.port),
      "--secret-file",
      path.join(dir, "secret"),
      "-c",
      "pwd",
    ]);
    expect(file.code).toBe(0);
    const env = await secure.ferry([host(secure.port), "-c", "pwd"], { env: { FERRY_SECRET: "s3cret" } });
    expect(env.code).toBe(0);
    const wrong = await secure.ferry([host(secure.port), "-c", "pwd"], { env: { FERRY_SECRET: "nope" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^ferry: open .*: EAUTH: /m);
  });
});
