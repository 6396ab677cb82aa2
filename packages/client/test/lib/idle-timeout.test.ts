import { join } from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { CLIENT_NAME, CLIENT_VERSION } from "../../src/lib/index.js";
import {
  MiB,
  md5File,
  rejection,
  session,
  tempDir,
  testProxy,
  testServer,
  writeRandomFile,
} from "./helpers.js";

describe("idle timeout", () => {
  it("a put whose bytes the server is still draining does not time out", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "big.bin");
    await writeRandomFile(local, 12 * MiB);
    // The proxy takes the whole upload at once (as deep kernel buffers would) and hands it to the
    // server at 16 MB/s: after our last write completes, nothing moves on our socket for about
    // 0.8 s, longer than the timeout, while the server is busy reading what we sent.
    const proxy = await testProxy(server, { slowDrain: { direction: "up", bytesPerSecond: 16e6 } });
    const s = await session(proxy, { timeoutMs: 500 });
    const result = await s.put(local, "big.bin");
    expect(result.size).toBe(12 * MiB);
    expect(await md5File(join(server.root, "big.bin"))).toBe(await md5File(local));
    // The session is still usable afterwards.
    expect((await s.stat("big.bin")).size).toBe(12 * MiB);
  });

  it("a get whose bytes keep arriving does not time out, however long it takes", async () => {
    const server = await testServer();
    const dir = await tempDir();
    await writeRandomFile(join(server.root, "f.bin"), 6 * MiB);
    // About 1.6 s of steady download against a 1 s timeout: received bytes are progress.
    const proxy = await testProxy(server, { slowDrain: { direction: "down", bytesPerSecond: 4e6 } });
    const s = await session(proxy, { timeoutMs: 1000 });
    const target = join(dir, "f.bin");
    await s.get("f.bin", target);
    expect(await md5File(target)).toBe(await md5File(join(server.root, "f.bin")));
  });

  it("a peer that takes the payload and never answers is ETIMEDOUT", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "big.bin");
    await writeRandomFile(local, 4 * MiB);
    const proxy = await testProxy(server, { stall: { direction: "up", after: MiB } });
    const s = await session(proxy, { timeoutMs: 300 });
    const err = await rejection(s.put(local, "big.bin"));
    expect(err.code).toBe("ETIMEDOUT");
    expect(s.closed).toBe(true);
  });

  it("a request the server never answers is ETIMEDOUT", async () => {
    // Plain TCP: the stall point is a position in the plaintext.
    const server = await testServer({ tls: false });
    const hello = encodeFrame({
      cmd: "hello",
      id: 0,
      version: 1,
      client: `${CLIENT_NAME}/${CLIENT_VERSION}`,
    });
    // Forwards hello and its reply, then nothing more upstream.
    const proxy = await testProxy(server, { stall: { direction: "up", after: hello.length } });
    const s = await session(proxy, { timeoutMs: 300 });
    await proxy.stalled;
    expect((await rejection(s.stat("/"))).code).toBe("ETIMEDOUT");
  });
});
