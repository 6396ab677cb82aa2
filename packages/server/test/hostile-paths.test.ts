import { lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HOSTILE, requests } from "./helpers/hostile.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer, treeChecksum } from "./helpers/server.js";

describe("hostile paths over the wire", () => {
  it.each(HOSTILE)("%s is EBADPATH for every command, and nothing outside changes", async (_why, p) => {
    const { port, canary } = await startTestServer();
    const before = await treeChecksum(canary);
    const c = await RawClient.ready(port);
    await c.put("ok.txt", Buffer.from("fine"));
    for (const req of requests(p)) {
      const reply = await c.request(req);
      expect(reply, JSON.stringify(req.cmd)).toMatchObject({ ok: false, code: "EBADPATH" });
    }
    // A streamed put with its payload: refused, payload skipped, stream still in step.
    expect(await c.put(p, Buffer.from("evil"), { overwrite: true, parents: true })).toMatchObject({
      code: "EBADPATH",
    });
    expect(await c.request({ cmd: "stat", path: "ok.txt" })).toMatchObject({ ok: true, entry: { size: 4 } });
    const other = await RawClient.ready(port);
    expect((await other.get("ok.txt")).data.toString()).toBe("fine");
    expect(await treeChecksum(canary)).toBe(before);
    c.close();
    other.close();
  });
});

describe("symlinks planted inside the root that point outside it", () => {
  async function planted() {
    const t = await startTestServer();
    await symlink(t.canary, path.join(t.root, "out-dir"));
    await symlink("../canary", path.join(t.root, "out-rel"));
    await symlink(path.join(t.canary, "secret.txt"), path.join(t.root, "out-file"));
    await mkdir(path.join(t.root, "inside"));
    await writeFile(path.join(t.root, "inside", "f.txt"), "in");
    await symlink("inside", path.join(t.root, "in-dir"));
    const before = await treeChecksum(t.canary);
    const c = await RawClient.ready(t.port);
    return { ...t, c, before };
  }

  it("cannot read, list or stat through them", async () => {
    const { c, canary, before } = await planted();
    expect((await c.get("out-file")).reply).toMatchObject({ code: "EBADPATH" });
    expect((await c.get("out-dir/secret.txt")).reply).toMatchObject({ code: "EBADPATH" });
    expect((await c.get("out-rel/sub/deep.txt")).reply).toMatchObject({ code: "EBADPATH" });
    expect(await c.list("out-dir")).toMatchObject({ code: "EBADPATH" });
    expect(await c.list("out-rel/sub")).toMatchObject({ code: "EBADPATH" });
    expect(await c.list("out-file")).toMatchObject({ code: "EBADPATH" });
    expect(await c.request({ cmd: "stat", path: "out-dir/secret.txt" })).toMatchObject({ code: "EBADPATH" });
    // The link itself is visible as a link, without following it.
    expect(await c.request({ cmd: "stat", path: "out-file" })).toMatchObject({ entry: { type: "symlink" } });
    // Links that stay inside work.
    expect((await c.get("in-dir/f.txt")).data.toString()).toBe("in");
    expect(await c.list("in-dir")).toMatchObject([{ name: "f.txt" }]);
    expect(await treeChecksum(canary)).toBe(before);
  });

  it("cannot write, create, delete or rename through them", async () => {
    const { c, canary, before } = await planted();
    expect(await c.put("out-dir/new.txt", Buffer.from("x"))).toMatchObject({ code: "EBADPATH" });
    expect(await c.put("out-dir/secret.txt", Buffer.from("x"), { overwrite: true })).toMatchObject({
      code: "EBADPATH",
    });
    expect(await c.put("out-rel/sub/x/y.txt", Buffer.from("x"), { parents: true })).toMatchObject({
      code: "EBADPATH",
    });
    expect(
      await c.request({ cmd: "put", path: "out-dir/h.txt", size: 1, handshake: true, overwrite: true }),
    ).toMatchObject({ code: "EBADPATH" });
    expect(await c.request({ cmd: "mkdir", path: "out-dir/d" })).toMatchObject({ code: "EBADPATH" });
    expect(await c.request({ cmd: "mkdir", path: "out-dir/d/e", parents: true })).toMatchObject({
      code: "EBADPATH",
    });
    expect(await c.request({ cmd: "delete", path: "out-dir/secret.txt" })).toMatchObject({
      code: "EBADPATH",
    });
    expect(await c.request({ cmd: "delete", path: "out-rel/sub", recursive: true })).toMatchObject({
      code: "EBADPATH",
    });
    expect(await c.request({ cmd: "rename", from: "out-dir/secret.txt", to: "stolen" })).toMatchObject({
      code: "EBADPATH",
    });
    await c.put("mine.txt", Buffer.from("m"));
    expect(await c.request({ cmd: "rename", from: "mine.txt", to: "out-dir/mine.txt" })).toMatchObject({
      code: "EBADPATH",
    });
    // Without overwrite the link counts as an existing name.
    expect(await c.put("out-file", Buffer.from("x"))).toMatchObject({ code: "EEXIST" });
    expect(await treeChecksum(canary)).toBe(before);
  });

  it("acts on the link itself: overwrite replaces it, delete removes it, the target is untouched", async () => {
    const { c, root, canary, before } = await planted();
    expect(await c.request({ cmd: "delete", path: "out-dir", recursive: true })).toMatchObject({ ok: true });
    await expect(lstat(path.join(root, "out-dir"))).rejects.toThrow();
    expect(await c.put("out-file", Buffer.from("replaced"), { overwrite: true })).toMatchObject({ ok: true });
    expect((await lstat(path.join(root, "out-file"))).isFile()).toBe(true);
    expect(await c.request({ cmd: "rename", from: "out-rel", to: "renamed-link" })).toMatchObject({
      ok: true,
    });
    expect(await readlink(path.join(root, "renamed-link"))).toBe("../canary");
    expect(await treeChecksum(canary)).toBe(before);
  });

  it("a directory swapped for a link out of the root right after a put into it cannot lead the next put out", async () => {
    const { c, root, canary, before } = await planted();
    await mkdir(path.join(root, "swap"));
    expect(await c.put("swap/one.txt", Buffer.from("1"))).toMatchObject({ ok: true });
    // Behind the server's back: the directory it just wrote into becomes a link to the canary.
    await rename(path.join(root, "swap"), path.join(root, "swapped-away"));
    await symlink(canary, path.join(root, "swap"));
    for (const handshake of [false, true]) {
      const data = Buffer.from(`two ${handshake}`);
      const id = c.send({ cmd: "put", path: "swap/two.txt", size: data.length, md5: md5(data), handshake });
      if (!handshake) c.sendData(id, 0, data);
      let reply = await c.reply();
      if (reply.type === "ready") {
        c.sendData(id, 0, data);
        reply = await c.reply();
      }
      // Refused, or written into the directory that was opened and checked: never into the canary.
      if (reply.ok === true) {
        expect((await readFile(path.join(root, "swapped-away", "two.txt"))).equals(data)).toBe(true);
        await rm(path.join(root, "swapped-away", "two.txt"));
      } else {
        expect(reply.code).toBe("EBADPATH");
      }
      expect(await treeChecksum(canary)).toBe(before);
    }
  });
});
