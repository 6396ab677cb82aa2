import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { SocketSource } from "./socket-source.js";

/** A server on 127.0.0.1 that sends `payload` to each connection, then ends it. */
async function sender(payload: Buffer): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function open(port: number): SocketSource {
  const source = new SocketSource();
  const socket = connect({ host: "127.0.0.1", port, onread: source.onread });
  onTestFinished(() => {
    socket.destroy();
  });
  source.attach(socket);
  return source;
}

describe("SocketSource", () => {
  it("delivers every byte in order to a slow reader (pausing the socket) and then ends", async () => {
    const payload = randomBytes(6 * 1024 * 1024);
    const source = open(await sender(payload));
    const hash = createHash("md5");
    let total = 0;
    let n = 0;
    for await (const chunk of source) {
      // A slow consumer: the socket must pause instead of queueing without bound, and a chunk
      // must stay intact until the next one is asked for.
      const copy = Buffer.from(chunk);
      if (n++ % 8 === 0) await sleep(1);
      expect(Buffer.compare(copy, chunk)).toBe(0);
      hash.update(chunk);
      total += chunk.length;
    }
    expect(total).toBe(payload.length);
    expect(hash.digest("hex")).toBe(createHash("md5").update(payload).digest("hex"));
  });

  it("ends at once for a peer that closes without sending", async () => {
    const source = open(await sender(Buffer.alloc(0)));
    const chunks: Uint8Array[] = [];
    for await (const chunk of source) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });

  it("with a rate limit hands every byte on in slices, each only after its wait, in order", async () => {
    const payload = randomBytes(2 * 1024 * 1024 + 333);
    const source = open(await sender(payload));
    const waited: number[] = [];
    let waiting = false;
    source.pace = {
      slice: 16 * 1024,
      wait: async (n) => {
        waiting = true;
        waited.push(n);
        await sleep(0);
        waiting = false;
      },
    };
    const hash = createHash("md5");
    const sizes: number[] = [];
    for await (const chunk of source) {
      // Nothing is handed on while its wait is still running.
      expect(waiting).toBe(false);
      sizes.push(chunk.length);
      hash.update(chunk);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16 * 1024);
    expect(waited).toEqual(sizes);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(payload.length);
    expect(hash.digest("hex")).toBe(createHash("md5").update(payload).digest("hex"));
  });
});
