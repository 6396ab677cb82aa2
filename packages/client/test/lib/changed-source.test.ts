import { randomBytes } from "node:crypto";
import { open, readdir, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { STAGING_DIR } from "@ferry/server";
import { describe, expect, it } from "vitest";
import {
  MiB,
  md5File,
  rejection,
  session,
  tempDir,
  testProxy,
  testServer,
  waitForServerPartial,
  writeRandomFile,
} from "./helpers.js";

// Neither side vouches, with an md5, for bytes read across a change of the file they come from: the
// transfer fails with ECHANGED and nothing appears under the target name (PROTOCOL.md §4 get, put).

const SIZE = 32 * MiB;
const PAST = new Date("2001-01-01T00:00:00Z");

async function overwriteAt(file: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await open(file, "r+");
  try {
    await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

describe("a put whose source file changes while the client reads it", () => {
  it("fails with ECHANGED, sends no trailer, and commits nothing under the name", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "big.bin");
    await writeRandomFile(local, SIZE);
    // Dated in the past, so the change below moves mtime whatever the clock's granularity.
    await utimes(local, PAST, PAST);
    // The proxy stops reading after 2 MiB of upload: the client is held back by backpressure, its
    // reading of the file stopped a few MiB in (socket buffers and its two 1 MiB blocks), far from
    // the middle. No sleep races the transfer: the change lands while the client is held.
    const proxy = await testProxy(server, { hold: { direction: "up", after: 2 * MiB } });
    const s = await session(proxy);
    const putting = rejection(s.put(local, "big.bin"));
    await proxy.held;
    await overwriteAt(local, 0, randomBytes(64 * 1024)); // already read and sent
    await overwriteAt(local, SIZE / 2, randomBytes(64 * 1024)); // not read yet
    proxy.release();
    const err = await putting;
    expect(err.code).toBe("ECHANGED");
    expect(err.details).toMatchObject({ local: true, path: local });
    // Without a trailer the put cannot end cleanly: the connection was dropped, and the server kept
    // the bytes only as a staging partial.
    expect(s.closed).toBe(true);
    await waitForServerPartial(server.root);
    expect(await stat(join(server.root, "big.bin")).catch(() => null)).toBeNull();
    expect((await readdir(server.root)).filter((n) => n !== STAGING_DIR)).toEqual([]);

    // The file as it is now goes up whole: the kept partial's prefix hash does not match it.
    const again = await session(server);
    const result = await again.put(local, "big.bin");
    expect(result.resumedFrom).toBe(0);
    expect(await md5File(join(server.root, "big.bin"))).toBe(await md5File(local));
  });
});

describe("a get whose file on the server changes while it is sent", () => {
  it("fails with ECHANGED, writes nothing under the name, and the session goes on", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const remote = join(server.root, "big.bin");
    await writeRandomFile(remote, SIZE);
    await utimes(remote, PAST, PAST);
    // Held as above, in the other direction: the server's send is held back by backpressure.
    const proxy = await testProxy(server, { hold: { direction: "down", after: 2 * MiB } });
    const s = await session(proxy);
    const target = join(dir, "big.bin");
    const getting = rejection(s.get("big.bin", target));
    await proxy.held;
    await overwriteAt(remote, 0, randomBytes(64 * 1024));
    await overwriteAt(remote, SIZE / 2, randomBytes(64 * 1024));
    proxy.release();
    const err = await getting;
    expect(err.code).toBe("ECHANGED");
    expect(await stat(target).catch(() => null)).toBeNull();
    // Only that request failed. The partial it kept does not match the file as it is now, so the
    // next get starts over and verifies the whole file.
    expect(s.closed).toBe(false);
    const result = await s.get("big.bin", target);
    expect(result.resumedFrom).toBe(0);
    expect(await md5File(target)).toBe(await md5File(remote));
  });
});
