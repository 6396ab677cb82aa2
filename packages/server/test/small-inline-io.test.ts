import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, symlink } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer, treeChecksum } from "./helpers/server.js";

const run = promisify(execFile);

/**
 * Small files are opened, read and written with synchronous calls on the server's main thread
 * (storage/local/sync-io.ts): whatever a root holds, such a call must not block, or every
 * connection of the server stops with it.
 */
describe("small files on the inline road", () => {
  it("a 4 KiB put whose directory is swapped for a symlink out of the root after admission lands inside", async () => {
    const { port, root, canary } = await startTestServer();
    await mkdir(path.join(root, "d"));
    const before = await treeChecksum(canary);
    const c = await RawClient.ready(port);
    const data = randomBytes(4096);
    const ready = await c.request({
      cmd: "put",
      path: "d/f.bin",
      size: data.length,
      md5: md5(data),
      handshake: true,
    });
    expect(ready).toMatchObject({ ok: true, type: "ready" });
    // Admitted: the server holds d open. Now d moves and a link to the outside takes its name.
    await rename(path.join(root, "d"), path.join(root, "moved"));
    await symlink(canary, path.join(root, "d"));
    c.sendData(ready.id as number, 0, data);
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect((await readFile(path.join(root, "moved", "f.bin"))).equals(data)).toBe(true);
    expect(await treeChecksum(canary)).toBe(before);
    c.close();
  });

  it("a get of a FIFO planted in the root is refused without blocking the server", {
    timeout: 30_000,
  }, async () => {
    const { port, root } = await startTestServer();
    const fifo = path.join(root, "pipe");
    await run("mkfifo", [fifo]);
    // Should the server block opening the FIFO (no O_NONBLOCK), this writer frees it after a while,
    // marking first that it did: a reply that comes after the mark came from a blocked server.
    const late = path.join(root, "late");
    const writer = spawn("sh", ["-c", `sleep 10; : > "${late}"; : > "${fifo}"`], { stdio: "ignore" });
    onTestFinished(() => {
      writer.kill();
    });
    const c = await RawClient.ready(port);
    const other = await RawClient.ready(port);
    const got = c.get("pipe");
    expect(await other.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    expect((await got).reply).toMatchObject({ ok: false, code: "EACCES" });
    expect(existsSync(late)).toBe(false);
    c.close();
    other.close();
  });
});
