import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createDigest, type HashAlgorithm } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { MiB, session, tempDir, testServer, writeRandomFile } from "./helpers.js";

const hashOf = async (alg: HashAlgorithm, data: Uint8Array) =>
  (await createDigest(alg)).update(data).digest();

describe("connect({ hash })", () => {
  it("puts and sums in sha256: results name the algorithm and never call the value an md5", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "a.bin");
    await writeRandomFile(local, 2 * MiB + 3);
    const bytes = await readFile(local);
    const s = await session(server, { hash: "sha256" });
    expect(s.server).toMatchObject({ hash: "sha256", hashes: ["md5", "sha256", "xxh128"] });
    const put = await s.put(local, "a.bin");
    expect(put).toMatchObject({ alg: "sha256", hash: await hashOf("sha256", bytes) });
    expect(put.md5).toBeUndefined();
    const sum = await s.sum("a.bin");
    expect(sum).toMatchObject({ alg: "sha256", hash: put.hash, size: bytes.length });
    expect(sum.md5).toBeUndefined();
    const [entry] = await s.list("a.bin");
    expect(entry?.hash).toBe(put.hash);
  });

  it("resumes a get in xxh128 from a .part that is the file's prefix", async () => {
    const server = await testServer();
    const dir = await tempDir();
    await writeRandomFile(join(server.root, "big.bin"), 4 * MiB);
    const bytes = await readFile(join(server.root, "big.bin"));
    const target = join(dir, "big.bin");
    await writeFile(`${target}.part`, bytes.subarray(0, MiB + 1));
    const s = await session(server, { hash: "xxh128" });
    const got = await s.get("big.bin", target);
    expect(got).toMatchObject({ alg: "xxh128", hash: await hashOf("xxh128", bytes), resumedFrom: MiB + 1 });
    expect((await readFile(target)).equals(bytes)).toBe(true);
    // And a put of the same file back, checked by the server in xxh128 too.
    await copyFile(target, join(dir, "back.bin"));
    expect(await s.put(join(dir, "back.bin"), "back.bin")).toMatchObject({ alg: "xxh128", hash: got.hash });
  });
});
