import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat, statfs, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { spawnFerry, spawnFerryd, tempDirForTest, trustArgs } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands/index.js";
import { expectOneLineErrors, world, writeFiles } from "./helpers.js";
import { throttleProxy } from "./throttle-proxy.js";

const host = (port: number): string => `127.0.0.1:${port}`;
const MiB = 1024 * 1024;
const REPO_ROOT = path.resolve(import.meta.dirname, "../../../..");
const escapeRe = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A folder's names, without the server's hidden staging folder. */
const names = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((n) => !n.startsWith(".ferry")).sort();

/** stderr without the status line that says where ferry connected. */
const problems = (stderr: string): string[] =>
  stderr.split("\n").filter((l) => l !== "" && !l.startsWith("connected to "));

describe("the commands sftp and lftp users type", () => {
  it("put -r and get -r copy trees; put and get take several files and globs, into a directory", async () => {
    const w = await world();
    await writeFiles(w.local, {
      "site/index.html": "<h1>hi</h1>",
      "site/css/a.css": "a{}",
      "site/img/logo.png": randomBytes(3000),
      "a.log": "a",
      "b.log": "b",
      "c.txt": "c",
    });
    const r = await w.ferry([
      host(w.port),
      "-c",
      "put -r site; put -r site /copy; mkdir logs; put *.log c.txt logs; put a.log b.log",
    ]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    for (const top of ["site", "copy"]) {
      expect(await readFile(path.join(w.root, top, "css", "a.css"), "utf8")).toBe("a{}");
      expect(await names(path.join(w.root, top))).toEqual(["css", "img", "index.html"]);
    }
    expect(await names(path.join(w.root, "logs"))).toEqual(["a.log", "b.log", "c.txt"]);
    // Two plain words stay sftp's LOCAL REMOTE.
    expect(await readFile(path.join(w.root, "b.log"), "utf8")).toBe("a");

    await mkdir(path.join(w.local, "back"));
    const g = await w.ferry([
      host(w.port),
      "-c",
      "lcd back; get -r site; get -r /site fresh; get logs/*.log /logs/c.* .; get b.log copy.log; get /logs/a.log /logs/c.txt fresh/",
    ]);
    expect(problems(g.stderr)).toEqual([]);
    expect(g.code).toBe(0);
    const back = path.join(w.local, "back");
    expect(await readFile(path.join(back, "site", "img", "logo.png"))).toEqual(
      await readFile(path.join(w.local, "site", "img", "logo.png")),
    );
    expect(await names(path.join(back, "fresh"))).toEqual(["a.log", "c.txt", "css", "img", "index.html"]);
    expect(await names(back)).toEqual(["a.log", "b.log", "c.txt", "copy.log", "fresh", "site"]);
    expect(await readFile(path.join(back, "copy.log"), "utf8")).toBe("a");
  });

  it("reput continues a shorter remote file and reget a shorter local one, each checked by md5", async () => {
    const w = await world();
    const data = randomBytes(3 * MiB);
    await writeFile(path.join(w.local, "big.bin"), data);
    // Left short by another tool: under the real names, not as ferry's partials.
    await writeFile(path.join(w.root, "big.bin"), data.subarray(0, MiB));
    await writeFile(path.join(w.root, "other.bin"), data);
    await writeFile(path.join(w.local, "other.bin"), data.subarray(0, 2 * MiB));
    const r = await w.ferry([host(w.port), "-c", "reput big.bin; reget other.bin"]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^put big\.bin → \/big\.bin 3\.0 MiB .* md5 ok \(resumed at 1\.0 MiB\)$/m);
    expect(r.stdout).toMatch(/^get \/other\.bin → other\.bin 3\.0 MiB .* md5 ok \(resumed at 2\.0 MiB\)$/m);
    expect((await readFile(path.join(w.root, "big.bin"))).equals(data)).toBe(true);
    expect((await readFile(path.join(w.local, "other.bin"))).equals(data)).toBe(true);

    // A prefix that is not this file's: the upload starts over and is still verified.
    await writeFile(path.join(w.root, "big.bin"), randomBytes(MiB));
    const again = await w.ferry([host(w.port), "-c", "reput big.bin"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^put big\.bin → \/big\.bin 3\.0 MiB .* md5 ok$/m);
    expect((await readFile(path.join(w.root, "big.bin"))).equals(data)).toBe(true);
    // Nothing shorter: nothing to resume.
    const same = await w.ferry([host(w.port), "-c", "reget big.bin"]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^get \/big\.bin → big\.bin skipped \(up to date\)$/m);
    await writeFile(path.join(w.local, "other.bin"), randomBytes(3 * MiB));
    const longer = await w.ferry([host(w.port), "-c", "reget other.bin"]);
    expect(longer.code).toBe(1);
    expect(problems(longer.stderr)).toEqual([
      "ferry: reget other.bin: EEXIST: other.bin is not shorter than the source, so there is nothing to resume; use get to replace it",
    ]);
  });

  it("ls is short by default (one per line off a terminal); -l -1 -a -t -S -r -R -h and globs; lls the same", async () => {
    const w = await world();
    await writeFiles(w.root, {
      "small.txt": "x",
      "big.bin": randomBytes(5000),
      ".hidden": "h",
      "d/inner.txt": "inner",
      "d/e/deep.txt": "deep",
    });
    const old = new Date("2020-06-15T12:00:00Z");
    await utimes(path.join(w.root, "big.bin"), old, old);
    const r = await w.ferry([
      host(w.port),
      "-c",
      "ls; ls -a; ls -S; ls -Sr; ls -t; ls *.txt d; ls -lh big.bin; ls -R d; ls -l1 /d",
    ]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    const out = r.stdout;
    // ls, then ls -a (dot names too), ls -S (largest first), ls -Sr (reversed)
    expect(out).toContain(
      "big.bin\nd/\nsmall.txt\n.hidden\nbig.bin\nd/\nsmall.txt\nbig.bin\nsmall.txt\nd/\nd/\nsmall.txt\nbig.bin\n",
    );
    // ls -t: newest first; big.bin is from 2020
    expect(out).toMatch(/^(d\/\nsmall\.txt|small\.txt\nd\/)\nbig\.bin\n/m);
    // ls *.txt d: the named file first, then the directory under a heading
    expect(out).toContain("small.txt\n\n/d:\ne/\ninner.txt\n");
    expect(out).toMatch(/^- 4\.9 KiB {2}2020-06-15 \d\d:\d\d {2}big\.bin$/m);
    // ls -R d
    expect(out).toContain("/d:\ne/\ninner.txt\n\n/d/e:\ndeep.txt\n");
    // ls -l1: -l wins
    expect(out).toMatch(/^d 0 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}e\/\n- 5 {2}.* inner\.txt\n$/m);

    await writeFiles(w.local, { "one.txt": "1", "two.txt": "22", "three.md": "333", ".dot": "" });
    const l = await w.ferry([host(w.port), "-c", "lls; lls -S *.txt; lls -a -1"]);
    expect(l.code).toBe(0);
    expect(l.stdout).toContain("one.txt\nthree.md\ntwo.txt\ntwo.txt\none.txt\n.dot\none.txt\n");
  });

  it("cd - and lcd - go back; lmkdir makes local directories; mv is rename, into a directory", async () => {
    const w = await world();
    await writeFiles(w.root, { "a/x.txt": "x", "b/.keep": "" });
    const r = await w.ferry([
      host(w.port),
      "-c",
      "cd /a; cd /b; cd -; pwd; lmkdir -p made/deeper; lcd made; lcd -; lmkdir fresh; mv x.txt /b/; mv /b/x.txt /b/y.txt",
    ]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    // `cd -` says where it went, as a shell does.
    expect(r.stdout).toBe(`/a\n/a\n${w.local}\n`);
    expect((await stat(path.join(w.local, "made", "deeper"))).isDirectory()).toBe(true);
    expect((await stat(path.join(w.local, "fresh"))).isDirectory()).toBe(true);
    expect(await names(path.join(w.root, "b"))).toEqual([".keep", "y.txt"]);
    const none = await w.ferry([host(w.port), "-c", "cd -"]);
    expect(none.code).toBe(1);
    expect(problems(none.stderr)).toEqual(["ferry: cd -: ENOENT: no previous remote directory"]);
  });

  it("df shows the server's disk: its size exactly, and no more free space than the disk has", async () => {
    const w = await world();
    const disk = await statfs(w.root);
    const r = await w.ferry([host(w.port), "-c", "df; df -h"]);
    expect(r.code).toBe(0);
    const [head, numbers, humanHead, human] = r.stdout.trim().split("\n");
    expect(head?.trim().split(/\s+/)).toEqual(["Size", "Used", "Avail", "Use%"]);
    expect(humanHead?.trim().split(/\s+/)).toEqual(["Size", "Used", "Avail", "Use%"]);
    const [size, used, avail] = (numbers ?? "").trim().split(/\s+/).map(Number);
    expect(size).toBe(disk.blocks * disk.bsize);
    expect(avail).toBeGreaterThan(0);
    expect(avail).toBeLessThanOrEqual(disk.bfree * disk.bsize);
    expect((used ?? 0) + (avail ?? 0)).toBe(size);
    expect(human).toMatch(/\d+\.\d [KMGT]iB\s+\d+\.\d [KMGT]iB\s+\d+\.\d [KMGT]iB\s+\d+%/);
    const json = await w.ferry([host(w.port), "--json", "-c", "df"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: "df", total: disk.blocks * disk.bsize });
  });

  it("an option letter is never a path: an unknown one is EUSAGE naming it, and -- sends a file named -r", async () => {
    const w = await world();
    await writeFiles(w.local, { "-r": "dash", "a.txt": "a" });
    const bad = await w.ferry([host(w.port), "-c", "put a.txt -x"]);
    expect(bad.code).toBe(1);
    expect(problems(bad.stderr)).toEqual(["ferry: put a.txt -x: EUSAGE: unknown option -x"]);
    const long = await w.ferry([host(w.port), "--json", "-c", "ls --bogus"]);
    expect(long.code).toBe(1);
    expect(JSON.parse(long.stdout)).toMatchObject({
      kind: "error",
      code: "EUSAGE",
      message: "unknown option --bogus",
    });
    expect(await names(w.root)).toEqual([]);
    const dashed = await w.ferry([host(w.port), "-c", "put -- -r; ls -l -- -r"]);
    expect(problems(dashed.stderr)).toEqual([]);
    expect(await readFile(path.join(w.root, "-r"), "utf8")).toBe("dash");
    expect(dashed.stdout).toMatch(/^- 4 {2}.* -r$/m);
  });

  it("mirror, sum and -p take options the same strict way: unknown is EUSAGE naming it, -- ends them", async () => {
    const w = await world();
    await writeFiles(w.local, { "-r": "dash", "a.txt": "a" });
    const run = async (line: string) => {
      const r = await w.ferry([host(w.port), "-c", line]);
      return { code: r.code, problems: problems(r.stderr), stdout: r.stdout };
    };
    expect(await run("sum -x a.txt")).toMatchObject({
      code: 1,
      problems: ["ferry: sum -x a.txt: EUSAGE: unknown option -x"],
    });
    expect(await run("mirror -R --bogus .")).toMatchObject({
      code: 1,
      problems: ["ferry: mirror -R --bogus .: EUSAGE: unknown option --bogus"],
    });
    expect(await run("put -p -z a.txt")).toMatchObject({
      code: 1,
      problems: ["ferry: put -p -z a.txt: EUSAGE: unknown option -z"],
    });
    expect(await names(w.root)).toEqual([]);
    const dashed = await run("put -rp -- -r; sum -- -r");
    expect(dashed.problems).toEqual([]);
    expect(dashed.stdout).toMatch(/^[0-9a-f]{32} {2}\/-r$/m);
  });

  it("help and the README list every command and alias", async () => {
    const w = await world();
    const r = await w.ferry(["-c", "help"]);
    expect(r.code).toBe(0);
    const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
    // The README's command table: its first column, where each command and alias is named in backticks.
    const table = readme
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) => l.split(" | ")[0] as string)
      .join("\n");
    expect(COMMANDS.map((c) => c.name)).toEqual(
      expect.arrayContaining(["mirror", "sum", "df", "reget", "lmkdir"]),
    );
    for (const c of COMMANDS) {
      expect(r.stdout).toMatch(new RegExp(`^${escapeRe(c.usage)} `, "m"));
      for (const alias of c.aliases ?? [])
        expect(r.stdout).toMatch(new RegExp(`\\(also [^)]*${escapeRe(alias)}`));
      const name = c.name === "!" ? "!CMD" : c.name;
      expect(table, `README table lacks ${name}`).toMatch(new RegExp(`\`${escapeRe(name)}[\` ]`));
      for (const alias of c.aliases ?? [])
        expect(table, `README table lacks ${alias}`).toContain(`\`${alias}\``);
    }
  });
});

describe("rough edges a new user hits (batch, with the real binaries)", () => {
  it("3: status lines go to stderr, so $(ferry host -c pwd) captures only the directory", async () => {
    const w = await world();
    const r = await w.ferry([host(w.port), "-c", "pwd"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("/\n");
    expect(r.stderr).toMatch(/^connected to 127\.0\.0\.1:\d+ \(ferryd\/[\d.]+\)\n$/);
  });

  it("4: -b with a missing file fails before connecting", async () => {
    const w = await world();
    // Port 1 has no server: connecting first would fail with ECONNREFUSED instead.
    const r = await w.ferry(["127.0.0.1:1", "-b", "missing.batch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("ferry: ENOENT: batch file missing.batch: no such file or directory\n");
  });

  it("5: lcd and bad options say what happened once, without Node's text or unbalanced quotes", async () => {
    const w = await world();
    const lcd = await w.ferry(["-c", "lcd nosuch"]);
    expect(lcd.code).toBe(1);
    expect(lcd.stderr).toBe(
      `ferry: lcd nosuch: ENOENT: local directory ${path.join(w.local, "nosuch")}: no such file or directory\n`,
    );
    const bogus = await w.ferry(["--bogus"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toBe("ferry: unknown option --bogus\ntry ferry --help\n");
    const missing = await w.ferry(["--port"]);
    expect(missing.stderr).toBe("ferry: option --port needs a value\ntry ferry --help\n");
  });

  it("6: a connection lost mid-transfer says that running the command again resumes", async () => {
    const dir = await tempDirForTest("ferry-lost-");
    const root = path.join(dir, "root");
    await mkdir(root);
    await writeFile(path.join(dir, "big.bin"), randomBytes(8 * MiB));
    const server = await spawnFerryd({ root, args: ["--no-fsync"] });
    const port = await throttleProxy(server.port, MiB);
    const ferry = spawnFerry([...trustArgs(server), host(port), "-c", "put big.bin"], { cwd: dir });
    for (let i = 0; i < 400 && (await stagingBytes(root)) === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    await server.stop("SIGKILL");
    const r = await ferry.done;
    expect(r.code).toBe(1);
    expectOneLineErrors(r.stderr);
    expect(problems(r.stderr)).toEqual([
      expect.stringMatching(/^ferry: put big\.bin: ECONNLOST: .*; run the same command again to resume$/),
    ]);
  });

  it("7: re-running mput/mget skips identical files as up to date, without --yes or a question", async () => {
    const w = await world();
    await writeFiles(w.local, { "up/a.txt": "aaa", "up/b.txt": "bbb" });
    const first = await w.ferry([host(w.port), "-c", "mput -r up"]);
    expect(first.code).toBe(0);
    await writeFiles(w.local, { "up/c.txt": "ccc" });
    const again = await w.ferry([host(w.port), "-c", "mput -r up"]);
    expect(problems(again.stderr)).toEqual([]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^put up\/a\.txt → \/up\/a\.txt skipped \(up to date\)$/m);
    expect(again.stdout).toMatch(/^put up\/c\.txt → \/up\/c\.txt 3 B .* md5 ok$/m);
    await mkdir(path.join(w.local, "down"));
    const down = await w.ferry([host(w.port), "-c", "lcd down; mget -r up; mget -r up"]);
    expect(down.code).toBe(0);
    expect(down.stdout.match(/skipped \(up to date\)$/gm)).toHaveLength(3);
    // A file that differs is still a conflict nobody can answer in batch mode.
    await writeFiles(w.local, { "up/a.txt": "AAA" });
    const changed = await w.ferry([host(w.port), "-c", "mput -r up"]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^put up\/b\.txt → \/up\/b\.txt skipped \(up to date\)$/m);
  });

  it("7b: files ferryd did not receive (no hash known) are still found identical, by asking for their sum", async () => {
    const w = await world();
    // Put in the served folder by other means: ferryd has no hash for them until asked.
    const tree = { "t/a.txt": "aaa", "t/b.txt": "bbb", "t/sub/c.txt": "ccc" };
    await writeFiles(w.root, { ...tree, "one.txt": "one" });
    await writeFiles(w.local, { ...tree, "one.txt": "one" });
    const get = await w.ferry([host(w.port), "-c", "get one.txt"]);
    expect(problems(get.stderr)).toEqual([]);
    expect(get.stdout).toMatch(/^get \/one\.txt → one\.txt skipped \(up to date\)$/m);
    const down = await w.ferry([host(w.port), "-c", "mget -r t"]);
    expect(problems(down.stderr)).toEqual([]);
    expect(down.stdout.match(/skipped \(up to date\)$/gm)).toHaveLength(3);

    // Same size, other bytes: still a conflict, in both directions; nothing is replaced.
    await writeFiles(w.root, { "t/sub/c.txt": "CCC", "two.txt": "two" });
    await writeFiles(w.local, { "two.txt": "TWO" });
    const put = await w.ferry([host(w.port), "-c", "put two.txt"]);
    expect(put.code).toBe(1);
    expect(problems(put.stderr)).toEqual([expect.stringMatching(/^ferry: put two\.txt: EEXIST: /)]);
    const up = await w.ferry([host(w.port), "-c", "mput -r t"]);
    expect(up.code).toBe(1);
    expect(up.stdout).toMatch(/^put t\/a\.txt → \/t\/a\.txt skipped \(up to date\)$/m);
    expect(up.stdout).not.toMatch(/c\.txt/);
    expect(await readFile(path.join(w.root, "t/sub/c.txt"), "utf8")).toBe("CCC");
    expect(await readFile(path.join(w.root, "two.txt"), "utf8")).toBe("two");
  });

  it("8: rename into a directory (or a name ending in /) moves into it, as mv does", async () => {
    const w = await world();
    await writeFiles(w.root, { "a.txt": "a", "b.txt": "b", "dir/.keep": "" });
    const r = await w.ferry([host(w.port), "-c", "rename a.txt dir/; mv b.txt dir"]);
    expect(problems(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
    expect(await names(path.join(w.root, "dir"))).toEqual([".keep", "a.txt", "b.txt"]);
  });

  it("9: rm -r of a directory needs --yes without a terminal, like a glob", async () => {
    const w = await world();
    await writeFiles(w.root, { "tree/a/b.txt": "b", "keep.txt": "k" });
    const r = await w.ferry([host(w.port), "-c", "rm -r tree"]);
    expect(r.code).toBe(1);
    expect(problems(r.stderr)).toEqual([
      "ferry: rm -r tree: ENOTTY: delete /tree and everything in it? cannot be asked without a terminal; use --yes",
    ]);
    expect(await names(w.root)).toEqual(["keep.txt", "tree"]);
    const yes = await w.ferry([host(w.port), "--yes", "-c", "rm -r tree"]);
    expect(yes.code).toBe(0);
    expect(await names(w.root)).toEqual(["keep.txt"]);
  });

  it("14: close says it disconnected; pwd without a connection is ENOTCONN, not /", async () => {
    const w = await world();
    const r = await w.ferry([host(w.port), "-c", "close; pwd"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(problems(r.stderr)).toEqual([
      expect.stringMatching(/^disconnected from 127\.0\.0\.1:\d+$/),
      "ferry: pwd: ENOTCONN: not connected; use open HOST[:PORT]",
    ]);
  });
});

/** Bytes of uploads in progress in a served root's staging folder. */
async function stagingBytes(root: string): Promise<number> {
  let total = 0;
  const dir = path.join(root, ".ferry-staging");
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(".part")) total += (await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
