import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";

const run = promisify(execFile);

/**
 * Small files are opened, read and written with synchronous calls on the server's main thread
 * (storage/local/sync-io.ts): whatever a root holds, such a call must not block, or every
 * connection of the server stops with it.
 */
describe("small files on the inline road", () => {
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
