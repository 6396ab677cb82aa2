import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createDigest, type HashAlgorithm } from "@ferry/protocol";
import { runFerry, tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { expectOneLineErrors, world, writeFiles } from "./helpers.js";
import { hostileServer } from "./hostile-server.js";

const host = (port: number): string => `127.0.0.1:${port}`;
const hashOf = async (alg: HashAlgorithm, data: Uint8Array) =>
  (await createDigest(alg)).update(data).digest();

describe("ferry --hash", () => {
  it("verifies put, get, mput, mget and sum with xxh128 and says so", async () => {
    const w = await world();
    const big = randomBytes(3 * 1024 * 1024 + 7); // a handshake put and a streamed get
    const small = randomBytes(1000); // a streamed put and a small get
    await writeFile(path.join(w.local, "big.bin"), big);
    await writeFiles(w.local, { "small.bin": small, "d/one.txt": "one\n", "d/two.txt": "two\n" });
    const r = await w.ferry([
      host(w.port),
      "--hash",
      "xxh128",
      "--no-progress",
      "-c",
      "put big.bin; put small.bin; mput -r d; lcd d; mkdir /back; cd /back; lcd ..; get /big.bin back.bin; sum /big.bin /small.bin",
    ]);
    expectOneLineErrors(r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^put big\.bin → \/big\.bin .* xxh128 ok$/m);
    expect(r.stdout).toMatch(/^put small\.bin → \/small\.bin .* xxh128 ok$/m);
    expect(r.stdout).toMatch(/^get \/big\.bin → back\.bin .* xxh128 ok$/m);
    expect(r.stdout).not.toMatch(/md5 ok/);
    expect(r.stdout).toContain(`${await hashOf("xxh128", big)}  /big.bin`);
    expect(r.stdout).toContain(`${await hashOf("xxh128", small)}  /small.bin`);
    expect((await readFile(path.join(w.local, "back.bin"))).equals(big)).toBe(true);
    expect(await readFile(path.join(w.root, "d", "two.txt"), "utf8")).toBe("two\n");

    const j = await w.ferry(
      [host(w.port), "--hash", "sha256", "--json", "-c", "sum /small.bin; mget -r /d"],
      {
        cwd: path.join(w.local, "d"),
      },
    );
    expect(j.code, j.stderr).toBe(0);
    const lines = j.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        kind: "sum",
        path: "/small.bin",
        alg: "sha256",
        hash: await hashOf("sha256", small),
      }),
    );
    expect(lines.find((l) => l.kind === "sum")?.md5).toBeUndefined(); // never an sha256 under md5's name
    expect(lines.filter((l) => l.kind === "transfer" && l.alg === "sha256")).toHaveLength(2);
  });

  it("skips a file identical by its xxh128 as up to date: stat and listings answer in the session's alg", async () => {
    const w = await world();
    await writeFiles(w.local, {
      "one.bin": randomBytes(5000),
      "d/two.txt": "two\n",
      "d/three.txt": "three\n",
    });
    const up = ["--hash", "xxh128", "--no-progress", "-c", "put one.bin; mput -r d"];
    const first = await w.ferry([host(w.port), ...up]);
    expect(first.code, first.stderr).toBe(0);
    // The server verified these in xxh128 and knows no md5 of them: only an xxh128 can tell.
    const again = await w.ferry([host(w.port), ...up]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^put one\.bin → \/one\.bin skipped \(up to date\)$/m);
    expect(again.stdout.match(/skipped \(up to date\)$/gm)).toHaveLength(3);
    const down = await w.ferry(
      [host(w.port), "--hash", "xxh128", "--no-progress", "-c", "get /one.bin; mget -r /d"],
      {
        cwd: w.local,
      },
    );
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout.match(/skipped \(up to date\)$/gm)).toHaveLength(3);
  });

  it("refuses an algorithm it does not know as a usage error", async () => {
    const w = await world();
    const r = await w.ferry([host(w.port), "--hash", "blake3", "-c", "ls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--hash blake3: not one of md5, sha256, xxh128/);
  });

  it("stops with EALG, before any transfer, when the server does not offer the algorithm", async () => {
    // This fake server's hello names no hashes, like a server older than §1.2: md5 only.
    const port = await hostileServer({ "/": [{ name: "a.txt", type: "file", content: "hello" }] });
    const dest = await tempDirForTest("ferry-hash-");
    const r = await runFerry(["--no-tls", host(port), "--hash", "xxh128", "-c", "get a.txt"], {
      cwd: dest,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EALG: the server does not offer the xxh128 hash \(it offers md5\)/);
    expectOneLineErrors(r.stderr);
    await expect(readFile(path.join(dest, "a.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    // md5, the default, still works against it.
    const plain = await runFerry(["--no-tls", host(port), "-c", "get a.txt"], {
      cwd: dest,
      timeoutMs: 30_000,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(await readFile(path.join(dest, "a.txt"), "utf8")).toBe("hello");
  });
});
