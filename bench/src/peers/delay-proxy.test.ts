import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";
import { describe, expect, it, onTestFinished } from "vitest";
import { type DelayProxy, type DelayProxyOptions, startDelayProxy } from "./delay-proxy.js";

const MESSAGE = 1024;

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const open = new Set<Socket>();
  const server = createServer((s) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        // A paused socket never notices its peer has gone: cut it, or close() waits for it forever.
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

async function proxyTo(port: number, options: Omit<DelayProxyOptions, "target">): Promise<DelayProxy> {
  const proxy = await startDelayProxy({ target: { port }, ...options });
  onTestFinished(() => proxy.close());
  return proxy;
}

async function connectTo(port: number): Promise<Socket> {
  const socket = tcpConnect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  onTestFinished(() => {
    socket.destroy();
  });
  return socket;
}

/** Cuts a byte stream into fixed-size messages, calling `onMessage` as each one completes. */
function messages(socket: Socket, onMessage: (m: Buffer, at: number) => void): void {
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    const at = performance.now();
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= MESSAGE) {
      onMessage(pending.subarray(0, MESSAGE), at);
      pending = pending.subarray(MESSAGE);
    }
  });
}

function message(i: number): Buffer {
  const m = Buffer.alloc(MESSAGE, i % 251);
  m.writeUInt32BE(i, 0);
  return m;
}

describe("delay proxy", () => {
  it("delivers every chunk at least the delay after it arrived, in order, in both directions", async () => {
    const delayMs = 30;
    const count = 20;
    const arrivedAtTarget: number[] = [];
    const echoedAt: number[] = [];
    const { port } = await listen((s) =>
      messages(s, (m, at) => {
        arrivedAtTarget.push(at);
        echoedAt.push(performance.now());
        s.write(m);
      }),
    );
    const proxy = await proxyTo(port, { delayMs });
    const client = await connectTo(proxy.port);
    const sentAt: number[] = [];
    const received: Buffer[] = [];
    const receivedAt: number[] = [];
    const all = new Promise<void>((resolve) =>
      messages(client, (m, at) => {
        received.push(Buffer.from(m));
        receivedAt.push(at);
        if (received.length === count) resolve();
      }),
    );
    for (let i = 0; i < count; i++) {
      sentAt.push(performance.now());
      client.write(message(i));
      await new Promise((r) => setTimeout(r, 3));
    }
    await all;
    expect(received.map((m) => m.readUInt32BE(0))).toEqual([...Array(count).keys()]);
    expect(Buffer.concat(received).equals(Buffer.concat([...Array(count).keys()].map(message)))).toBe(true);
    for (let i = 0; i < count; i++) {
      expect(arrivedAtTarget[i]! - sentAt[i]!).toBeGreaterThanOrEqual(delayMs);
      expect(receivedAt[i]! - echoedAt[i]!).toBeGreaterThanOrEqual(delayMs);
    }
  });

  it("does not exceed its pace by more than a margin over a fixed amount of data", async () => {
    const rate = 1_000_000;
    const total = 256 * 1024;
    let got = 0;
    let lastAt = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const { port } = await listen((s) =>
      s.on("data", (chunk: Buffer) => {
        got += chunk.length;
        lastAt = performance.now();
        if (got >= total) done();
      }),
    );
    const proxy = await proxyTo(port, { delayMs: 5, rateBytesPerSecond: rate });
    const client = await connectTo(proxy.port);
    const start = performance.now();
    client.write(Buffer.alloc(total, 7));
    await finished;
    const observed = total / ((lastAt - start) / 1000);
    expect(got).toBe(total);
    expect(observed).toBeLessThanOrEqual(rate * 1.2);
  });

  it("holds at most its bound and stops reading from a sender whose receiver does not read", async () => {
    const maxBufferedBytes = 1024 * 1024;
    const { port } = await listen((s) => s.pause());
    const proxy = await proxyTo(port, { delayMs: 1, maxBufferedBytes });
    const client = await connectTo(proxy.port);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const limit = 256 * 1024 * 1024;
    let accepted = 0;
    // Write until the socket stays full for a while (the proxy stopped reading) or the count runs out.
    while (accepted < limit) {
      accepted += chunk.length;
      if (client.write(chunk)) continue;
      const drained = await Promise.race([
        once(client, "drain").then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
      ]);
      if (!drained) break;
    }
    expect(accepted).toBeLessThan(limit);
    expect(proxy.stats().maxQueuedBytes).toBeLessThanOrEqual(maxBufferedBytes + 256 * 1024);
  });

  it("refuses a bound too small for its pace and delay", async () => {
    await expect(
      startDelayProxy({ target: { port: 1 }, delayMs: 100, rateBytesPerSecond: 1e8, maxBufferedBytes: 1e6 }),
    ).rejects.toThrow(RangeError);
  });
});
