import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { startServer } from "../src/index.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles } from "./helpers/server.js";
import { assertServes } from "./helpers/wait.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * A tmpfs of `size` mounted on a fresh temp dir; unmounted and removed when the test ends, pass or
 * fail. Null (with the reason) where mounting is not allowed, e.g. not root.
 */
async function smallDisk(size: string): Promise<{ dir: string } | { skip: string }> {
  const base = await mkdtemp(path.join(os.tmpdir(), "ferryd-diskfull-"));
  const dir = path.join(base, "mnt");
  await mkdir(dir);
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs (${(err as Error).message.split("\n")[0]})` };
  }
  return { dir };
}

async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
  await rm(path.dirname(dir), { recursive: true, force: true });
}

describe("disk full mid-upload", () => {
  it("two admitted 6 MiB puts on an 8 MiB disk: the second gets ENOSPC, its staging is removed, the server goes on", async (ctx) => {
    const disk = await smallDisk("8m");
    if ("skip" in disk) {
      console.warn(`skipped: ${disk.skip}`);
      ctx.skip();
      return;
    }
    const root = disk.dir;
    let server: Awaited<ReturnType<typeof startServer>> | null = null;
    // One hook, in order: the mount must not be busy when it is unmounted.
    onTestFinished(async () => {
      await server?.close();
      await unmount(root);
    });
    server = await startServer({ root, port: 0, tls: false });
    const port = server.port;

    const early = randomBytes(100_000);
    const setup = await RawClient.ready(port);
    expect(await setup.put("early.bin", early)).toMatchObject({ ok: true, type: "done" });
    setup.close();

    const a = randomBytes(6 * MiB);
    const b = randomBytes(6 * MiB);
    const ca = await RawClient.ready(port);
    const cb = await RawClient.ready(port);
    const ask = (c: RawClient, name: string, data: Buffer) =>
      c.request({ cmd: "put", path: name, size: data.length, md5: md5(data), handshake: true });
    // Both are admitted: each alone fits in the free space.
    const [ra, rb] = await Promise.all([ask(ca, "a.bin", a), ask(cb, "b.bin", b)]);
    expect(ra).toMatchObject({ ok: true, type: "ready", offset: 0 });
    expect(rb).toMatchObject({ ok: true, type: "ready", offset: 0 });

    ca.sendData(ra.id as number, 0, a);
    expect(await ca.reply()).toMatchObject({ ok: true, type: "done", md5: md5(a) });
    // b's staging file fills the disk partway through.
    cb.socket.write(encodeFrame({ cmd: "data", id: rb.id, offset: 0, size: b.length }));
    cb.socket.write(b);
    expect(await cb.reply()).toMatchObject({ ok: false, id: rb.id, code: "ENOSPC" });
    // The same connection goes on once the rest of b's payload has been skipped.
    expect(await cb.request({ cmd: "stat", path: "a.bin" })).toMatchObject({ ok: true, type: "entry" });

    expect(await stagingFiles(root)).toEqual([]);
    expect((await readdir(root)).sort()).toEqual([".ferry-staging", "a.bin", "early.bin"]);
    expect((await readFile(path.join(root, "early.bin"))).equals(early)).toBe(true);
    expect((await readFile(path.join(root, "a.bin"))).equals(a)).toBe(true);
    ca.close();
    cb.close();

    // Still serving, and the space freed by the failed upload is usable again.
    await assertServes(port);
    const c = await RawClient.ready(port);
    const small = randomBytes(500_000);
    expect(await c.put("after.bin", small)).toMatchObject({ ok: true, md5: md5(small) });
    expect((await c.get("early.bin")).data.equals(early)).toBe(true);

    // Small streamed puts (the pipelined path) until the disk is full: a clear ENOSPC, nothing staged.
    const chunk = randomBytes(900_000);
    let full: Record<string, unknown> | null = null;
    for (let i = 0; i < 20 && !full; i++) {
      const reply = await c.put(`fill${i}.bin`, chunk);
      if (reply.ok !== true) full = reply;
    }
    expect(full).toMatchObject({ ok: false, code: "ENOSPC" });
    expect(await stagingFiles(root)).toEqual([]);
    expect((await c.get("early.bin")).data.equals(early)).toBe(true);
    c.close();
  });
});
