import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { world, writeFiles } from "./helpers.js";
import { ferryInPty } from "./pty.js";
import { throttleProxy } from "./throttle-proxy.js";

const MiB = 1024 * 1024;
const PROMPT = /ftp> $/;

describe("the ftp> prompt in a pseudo-terminal", () => {
  it("completes a remote path, asks before overwriting, draws a bar, and Ctrl-C aborts a transfer", async () => {
    const w = await world();
    const big = randomBytes(8 * MiB);
    await writeFile(path.join(w.local, "big.bin"), big);
    await writeFiles(w.local, { "a.txt": "new a" });
    await writeFiles(w.root, { "report 2025.txt": "the report", "a.txt": "old a" });
    // Slow enough that the 8 MiB upload is still running when Ctrl-C arrives.
    const port = await throttleProxy(w.port, 2 * MiB);
    const history = path.join(w.local, "..", "history");
    const t = ferryInPty([...w.trust, `127.0.0.1:${port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: history },
    });

    await t.expect(/connected to 127\.0\.0\.1:\d+/);
    await t.expect(PROMPT);
    await t.send("ls\r");
    await t.expect(/report 2025\.txt\n/);
    await t.expect(PROMPT);

    // Tab completes the remote name, escaping its space.
    await t.send("get rep\t");
    await t.expect("get report\\ 2025.txt");
    await t.send("\r");
    await t.expect(/get \/report 2025\.txt → report 2025\.txt 10 B .* md5 ok/);
    await t.expect(PROMPT);
    expect(await readFile(path.join(w.local, "report 2025.txt"), "utf8")).toBe("the report");

    // The remote a.txt exists: inquirer asks; "o" overwrites.
    await t.send("put a.txt\r");
    await t.expect(/\/a\.txt already exists/);
    await t.expect(/overwrite/);
    await t.send("o\r");
    await t.expect(/put a\.txt → \/a\.txt 5 B .* md5 ok/);
    await t.expect(PROMPT);
    expect(await readFile(path.join(w.root, "a.txt"), "utf8")).toBe("new a");

    // A bar with name, percent, sizes, rate and ETA; Ctrl-C aborts and returns to the prompt.
    await t.send("put big.bin\r");
    await t.expect(/big\.bin\s+\[[█░]+\]\s+\d+% [\d.]+ (KiB|MiB)\/8\.0 MiB [\d.]+ \S+\/s ETA \S+/);
    await t.send("\x03");
    await t.expect(/put big\.bin: EABORTED: /);
    await t.expect(PROMPT);
    await expect(stat(path.join(w.root, "big.bin"))).rejects.toMatchObject({ code: "ENOENT" });

    // Running it again reconnects and completes the upload (resuming when the server kept the partial).
    await t.send("put big.bin\r");
    await t.expect(/put big\.bin → \/big\.bin 8\.0 MiB .* md5 ok/, 30);
    await t.expect(PROMPT);
    // Buffer.equals: vitest's deep equality walks 8 MiB byte by byte, for a minute.
    expect((await readFile(path.join(w.root, "big.bin"))).equals(big)).toBe(true);

    // Up-arrow recalls the previous line.
    await t.send("\x1b[A");
    await t.expect("ftp> put big.bin");
    await t.send("\x15quit\r");
    expect(await t.exit()).toBe(0);
    const saved = (await readFile(history, "utf8")).split("\n");
    expect(saved).toEqual(
      expect.arrayContaining(["ls", "get report\\ 2025.txt", "put a.txt", "put big.bin", "quit"]),
    );
  });

  it("asks for the secret without echoing it, and Ctrl-D / Ctrl-C at an empty prompt quit", async () => {
    const dir = await world();
    await writeFile(path.join(dir.local, "..", "secret"), "pa55word\n");
    const w = await world(["--secret-file", path.join(dir.local, "..", "secret")]);
    const t = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "h1") },
    });
    await t.expect(/secret for 127\.0\.0\.1:\d+/);
    await t.send("pa55word\r");
    await t.expect(/connected to/);
    await t.expect(PROMPT);
    expect(await t.transcript()).not.toContain("pa55word");
    await t.send("\x04");
    expect(await t.exit()).toBe(0);

    const t2 = ferryInPty([...w.trust, `127.0.0.1:${w.port}`], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "h2"), FERRY_SECRET: "pa55word" },
    });
    await t2.expect(PROMPT);
    await t2.send("pw");
    await t2.send("\x03");
    // Ctrl-C on a half-typed line only clears it.
    await t2.expect(PROMPT);
    await t2.send("help put\r");
    await t2.expect(/put \[-r\] \[-p\] LOCAL\.\.\. \[REMOTE\]/);
    await t2.expect(PROMPT);
    await t2.send("\x03");
    expect(await t2.exit()).toBe(0);
  });
});
