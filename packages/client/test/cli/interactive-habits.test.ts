import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { world, writeFiles } from "./helpers.js";
import { ferryInPty } from "./pty.js";
import { throttleProxy } from "./throttle-proxy.js";

const MiB = 1024 * 1024;
const PROMPT = /ftp> $/;
/** The width the issue was found at: an 80-column terminal. */
const COLUMNS = 80;

describe("the ftp> prompt at 80 columns", () => {
  it("1, 10: the bar fits the width, says verifying after the last byte, and the result line is printed whole", async () => {
    const w = await world();
    const dir = "long directory name for testing";
    const name = "another-quite-long-file-name-for-the-test.txt";
    // Bigger than what loopback sockets buffer, or every byte is "sent" at once.
    const data = randomBytes(24 * MiB);
    await writeFiles(w.local, { [`${dir}/${name}`]: data });
    await writeFiles(w.root, { "tree/sub/.keep": "" });
    // Slow enough to see the bar; the bytes the proxy and the sockets hold are what "verifying" waits for.
    const port = await throttleProxy(w.port, 8 * MiB);
    const t = ferryInPty([...w.trust, `127.0.0.1:${port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "history") },
      columns: COLUMNS,
    });
    await t.expect(PROMPT);
    await t.send(`put "${dir}/${name}" /tree/sub/\r`);
    await t.expect(/ [1-9]\d?% [\d.]+ (KiB|MiB)\/24\.0 MiB [\d.]+ \S+\/s ETA \S+/);
    const during = await t.screen();
    const bar = during.rows.filter((r) => /\[[█░]+\]/.test(r));
    expect(bar.length).toBeGreaterThan(0);
    for (const row of bar) {
      expect([...row].length).toBeLessThan(COLUMNS);
      // Whole: nothing chopped off its end.
      expect(row).toMatch(/ETA \S+$|verifying$/);
    }
    await t.expect(/100% 24\.0 MiB\/24\.0 MiB verifying/, 30);
    await t.expect(PROMPT, 30);
    const lines = (await t.screen()).lines;
    const whole = `put ${dir}/${name} → /tree/sub/${name} 24.0 MiB `;
    // One logical line (the terminal wraps it), whole, md5 check included.
    const result = lines.filter((l) => l.startsWith(whole));
    expect(result).toHaveLength(1);
    expect(result[0]).toMatch(/ \S+\/s md5 ok$/);
    expect((await readFile(path.join(w.root, "tree", "sub", name))).equals(data)).toBe(true);
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);
  });

  it("7: re-running an interrupted mput asks nothing about finished files, and offers resume for a shorter one", async () => {
    const w = await world();
    const b = randomBytes(3 * MiB);
    await writeFiles(w.local, { "a.txt": "already there", "b.bin": b });
    const t = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "history") },
      columns: COLUMNS,
    });
    await t.expect(PROMPT);
    await t.send("put a.txt\r");
    await t.expect(/md5 ok/);
    await t.expect(PROMPT);
    // Left short under its name by something else.
    await writeFile(path.join(w.root, "b.bin"), b.subarray(0, MiB));
    await t.send("mput a.txt b.bin\r");
    // Every question comes before the transfers start; the one identical file is not one of them.
    await t.expect(/\/b\.bin already exists/);
    await t.expect(/resume/);
    await t.send("r\r");
    await t.expect(/put a\.txt → \/a\.txt skipped \(up to date\)/);
    await t.expect(/put b\.bin → \/b\.bin 3\.0 MiB .* md5 ok \(resumed at 1\.0 MiB\)/, 30);
    await t.expect(PROMPT);
    expect((await readFile(path.join(w.root, "b.bin"))).equals(b)).toBe(true);
    const transcript = await t.transcript();
    expect(transcript).not.toMatch(/\/a\.txt already exists/);
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);
  });

  it("9: rm -r asks before deleting a tree; no keeps it, yes deletes it", async () => {
    const w = await world();
    await writeFiles(w.root, { "tree/a/b.txt": "b" });
    const t = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "history") },
      columns: COLUMNS,
    });
    await t.expect(PROMPT);
    await t.send("rm -r tree\r");
    await t.expect(/delete \/tree and everything in it\?/);
    await t.send("n\r");
    await t.expect(/EABORTED: nothing deleted/);
    await t.expect(PROMPT);
    expect(await readFile(path.join(w.root, "tree", "a", "b.txt"), "utf8")).toBe("b");
    await t.send("rm -r tree\r");
    await t.expect(/delete \/tree and everything in it\?/);
    await t.send("y\r");
    await t.expect(PROMPT);
    await t.send("ls\r");
    await t.expect(PROMPT);
    await expect(readFile(path.join(w.root, "tree", "a", "b.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);
  });

  it("12: a wrong secret at the prompt is asked again, up to 3 answers; then ferry gives up", async () => {
    const w0 = await world();
    const secretFile = path.join(w0.local, "..", "secret");
    await writeFile(secretFile, "right-one\n");
    const w = await world(["--secret-file", secretFile]);
    const t = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "h1") },
      columns: COLUMNS,
    });
    await t.expect(/secret for 127\.0\.0\.1:\d+/);
    await t.send("wrong-1\r");
    await t.expect(/refused that secret; secret for 127\.0\.0\.1:\d+ \(try 2 of 3\)/);
    await t.send("wrong-2\r");
    await t.expect(/\(try 3 of 3\)/);
    await t.send("right-one\r");
    await t.expect(/connected to 127\.0\.0\.1:\d+/);
    await t.expect(PROMPT);
    await t.send("pwd\r");
    await t.expect(/^\/$/m);
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);

    // A wrong secret from the environment is asked about too; three wrong answers end it.
    const t2 = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "h2"), FERRY_SECRET: "stale" },
      columns: COLUMNS,
    });
    for (const attempt of [1, 2, 3]) {
      await t2.expect(new RegExp(`refused that secret; .*\\(try ${attempt} of 3\\)`));
      await t2.send(`nope-${attempt}\r`);
    }
    await t2.expect(/EAUTH: 127\.0\.0\.1:\d+ refused the secret; check it/);
    expect(await t2.exit()).toBe(1);
  });

  it("progress turns the bars off and on; history lists the lines typed, numbered", async () => {
    const w = await world();
    await writeFile(path.join(w.local, "f.bin"), randomBytes(4 * MiB));
    const port = await throttleProxy(w.port, 4 * MiB);
    const t = ferryInPty([...w.trust, `127.0.0.1:${port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "history") },
      columns: COLUMNS,
    });
    await t.expect(PROMPT);
    await t.send("progress\r");
    await t.expect(/progress bars off/);
    await t.expect(PROMPT);
    const before = (await t.transcript()).length;
    await t.send("put f.bin\r");
    await t.expect(/put f\.bin → \/f\.bin 4\.0 MiB .* md5 ok/, 30);
    await t.expect(PROMPT);
    expect((await t.transcript()).slice(before)).not.toMatch(/\[[█░]+\]/);
    await t.send("progress on\r");
    await t.expect(/progress bars on/);
    await t.send("history\r");
    await t.expect(/^1 {2}progress\n2 {2}put f\.bin\n3 {2}progress on\n4 {2}history$/m);
    await t.expect(PROMPT);
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);
  });
});
