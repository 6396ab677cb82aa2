import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";

const KiB = 1024;
const RATE = 512 * KiB;

// Only lower bounds on time: a limit that works can be slower on a loaded machine, never faster.
// Three times the limit leaves room for the bucket's burst and the kernel's socket buffers.
const atLeast = (bytes: number) => (bytes / (3 * RATE)) * 1000;

describe("ferryd --max-rate", () => {
  it("paces a download: no faster than the limit", async () => {
    const { port, root } = await startTestServer({ tls: false, maxRate: RATE });
    const data = randomBytes(3 * RATE);
    await writeFile(path.join(root, "big.bin"), data);
    const c = await RawClient.ready(port);
    const started = performance.now();
    const got = await c.get("big.bin");
    const ms = performance.now() - started;
    expect(md5(got.data)).toBe(md5(data));
    expect(ms).toBeGreaterThanOrEqual(atLeast(data.length));
    c.close();
  });

  it("paces an upload, streamed or with a handshake: no faster than the limit", async () => {
    const { port } = await startTestServer({ tls: false, maxRate: RATE });
    const c = await RawClient.ready(port);
    const small = randomBytes(900 * KiB);
    let started = performance.now();
    expect(await c.put("small.bin", small)).toMatchObject({ ok: true, md5: md5(small) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeast(small.length));

    const big = randomBytes(3 * RATE);
    started = performance.now();
    const ready = await c.request({ cmd: "put", path: "big.bin", size: big.length, handshake: true });
    c.sendData(ready.id as number, 0, big);
    c.send({ cmd: "end", id: ready.id, md5: md5(big) });
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(big) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeast(big.length));
    c.close();
  });
});
