import { randomBytes } from "node:crypto";
import { readdir, readFile, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loggedIn, startAccountsServer } from "./helpers/accounts.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";

const MiB = 1024 * 1024;

async function serve(): Promise<{ root: string; port: number }> {
  const { root, port } = await startTestServer({ fsync: false });
  return { root, port };
}

describe("df", () => {
  it("answers the disk's total and what uploads may still use, with no quota fields without a quota", async () => {
    const { root, port } = await serve();
    const c = await RawClient.ready(port);
    const reply = await c.request({ cmd: "df" });
    const disk = await statfs(root);
    expect(reply).toMatchObject({ ok: true, type: "df", total: disk.blocks * disk.bsize });
    expect(reply.free as number).toBeGreaterThan(0);
    expect(reply.free as number).toBeLessThanOrEqual(disk.bfree * disk.bsize);
    expect(Object.keys(reply).sort()).toEqual(["free", "id", "ok", "total", "type"]);
  });
});

describe("df with accounts", () => {
  it("adds the user's quota and what their files use; a user without a quota gets none", async () => {
    const t = await startAccountsServer([
      { name: "q", password: "q pw", quota: { bytes: 10 * MiB, files: 5 } },
      { name: "free", password: "free pw" },
    ]);
    const c = await loggedIn(t.port, "q", "q pw");
    expect(await c.put("a.bin", randomBytes(3000))).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "df" })).toMatchObject({
      ok: true,
      type: "df",
      quotaBytes: 10 * MiB,
      usedBytes: 3000,
      quotaFiles: 5,
      usedFiles: 1,
    });
    c.close();
    const f = await loggedIn(t.port, "free", "free pw");
    const reply = await f.request({ cmd: "df" });
    expect(Object.keys(reply).sort()).toEqual(["free", "id", "ok", "total", "type"]);
    f.close();
  });
});

describe("put with resumeTarget", () => {
  it("offers a shorter target's bytes, continues after them, and leaves the target whole until the commit", async () => {
    const { root, port } = await serve();
    const data = randomBytes(3 * MiB);
    await writeFile(path.join(root, "log.bin"), data.subarray(0, MiB));
    const c = await RawClient.ready(port);
    const req = { cmd: "put", path: "log.bin", size: data.length, overwrite: true, handshake: true };
    const id = c.send({ ...req, resumeTarget: true });
    const ready = await c.reply();
    expect(ready).toMatchObject({
      ok: true,
      type: "ready",
      offset: MiB,
      prefixMd5: md5(data.subarray(0, MiB)),
    });
    // Until the commit, the target is what it was.
    expect((await readFile(path.join(root, "log.bin"))).length).toBe(MiB);
    c.send({ cmd: "data", id, offset: MiB, size: data.length - MiB });
    c.sendRaw(data.subarray(MiB));
    c.send({ cmd: "end", id, md5: md5(data) });
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect((await readFile(path.join(root, "log.bin"))).equals(data)).toBe(true);
    expect((await readdir(path.join(root, ".ferry-staging"))).filter((n) => !n.startsWith("."))).toEqual([]);
  });

  it("offers nothing without resumeTarget, for a target that is not shorter, or without overwrite", async () => {
    const { root, port } = await serve();
    await writeFile(path.join(root, "a.bin"), randomBytes(MiB));
    const cases = [
      { overwrite: true },
      // The target is as long as the upload: nothing to continue.
      { overwrite: true, resumeTarget: true, size: MiB },
    ];
    for (const extra of cases) {
      const c = await RawClient.ready(port);
      const ready = await c.request({ cmd: "put", path: "a.bin", size: 2 * MiB, handshake: true, ...extra });
      expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
      c.close();
    }
    const plain = await RawClient.ready(port);
    const refused = await plain.request({
      cmd: "put",
      path: "a.bin",
      size: 2 * MiB,
      handshake: true,
      resumeTarget: true,
    });
    expect(refused).toMatchObject({ ok: false, code: "EEXIST" });
  });
});
