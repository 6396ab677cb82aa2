import { createHash } from "node:crypto";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";
import { FerryError } from "../errors.js";
import { MAX_SIZE } from "../limits.js";
import { encodeFrame, writeDataFrame, writeFrame } from "./encoder.js";
import { encodeAll, fromChunks, readAll, sampleFrames, splitAt } from "./frames.test-helpers.js";
import { FrameReader } from "./reader.js";

const frames = sampleFrames();
const stream = encodeAll(frames);

async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error("expected a rejection");
}

/** A connected pair of real loopback sockets, closed when the test ends. */
async function socketPair(): Promise<{ client: Socket; server: Socket }> {
  const listener: Server = createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const address = listener.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const accepted = once(listener, "connection");
  const client = connect(address.port, "127.0.0.1");
  const [server] = (await accepted) as [Socket];
  await once(client, "connect").catch(() => undefined);
  onTestFinished(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { client, server };
}

describe("FrameReader", () => {
  it("reads every frame of a stream glued in one chunk, then null", async () => {
    expect(await readAll(fromChunks([stream]))).toEqual(frames);
  });

  it("reads the stream split in two at every possible point", async () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(await readAll(fromChunks([stream.subarray(0, cut), stream.subarray(cut)]))).toEqual(frames);
    }
  });

  it("reads the stream fed one byte at a time", async () => {
    expect(await readAll(fromChunks([...stream].map((b) => Buffer.from([b]))))).toEqual(frames);
  });

  it("reads any random chunking (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: stream.length }), { maxLength: 30 }), async (cuts) => {
        expect(await readAll(fromChunks(splitAt(stream, cuts)))).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it("returns null for an empty stream", async () => {
    expect(await new FrameReader(fromChunks([])).next()).toBeNull();
  });

  it("reads from a Node stream (PassThrough)", async () => {
    const pipe = new PassThrough();
    const read = readAll(pipe);
    for (const chunk of splitAt(stream, [3, 100, 101, 400])) pipe.write(chunk);
    pipe.end();
    expect(await read).toEqual(frames);
  });

  it("skips a payload the caller did not read, and one it read only in part", async () => {
    const reader = new FrameReader(fromChunks(splitAt(stream, [70, 150, 160, 300])));
    const headers: unknown[] = [];
    for (let frame = await reader.next(); frame; frame = await reader.next()) {
      headers.push(frame.header);
      if (frame.header.id === 1 && frame.size > 0) {
        for await (const chunk of frame.payload) {
          expect(chunk.length).toBeGreaterThan(0);
          break; // read only the first chunk
        }
      }
    }
    expect(headers).toEqual(frames.map((f) => f.header));
  });

  it("ends a payload iterator that outlived its frame without eating the next header", async () => {
    const reader = new FrameReader(fromChunks([stream]));
    let frame = await reader.next();
    while (frame && frame.size === 0) frame = await reader.next();
    const stale = frame?.payload;
    const next = await reader.next();
    expect(next?.header).toEqual(frames[3]?.header);
    const leftovers: Buffer[] = [];
    for await (const chunk of stale ?? []) leftovers.push(chunk);
    expect(leftovers).toEqual([]);
    expect((await reader.next())?.header).toEqual(frames[4]?.header);
  });

  it("yields a payload of exactly `size` bytes in chunks", async () => {
    const reader = new FrameReader(fromChunks(splitAt(stream, [160, 161, 200, 250])));
    let frame = await reader.next();
    while (frame && frame.size === 0) frame = await reader.next();
    expect(frame?.size).toBe(300);
    let total = 0;
    let chunks = 0;
    for await (const chunk of frame?.payload ?? []) {
      total += chunk.length;
      chunks++;
    }
    expect(total).toBe(300);
    expect(chunks).toBeGreaterThan(1);
  });

  it("reports ECONNLOST when the stream ends mid-prefix and mid-header", async () => {
    const first = encodeFrame({ cmd: "bye", id: 1 });
    for (const cut of [1, 3, 4, 5, first.length - 1]) {
      const err = await rejection(readAll(fromChunks([first.subarray(0, cut)])));
      expect(err.code).toBe("ECONNLOST");
    }
  });

  it("reports ECONNLOST with the byte counts when the stream ends mid-payload", async () => {
    const header = encodeFrame({ cmd: "data", id: 1, offset: 0, size: 100 });
    const reader = new FrameReader(fromChunks([header, Buffer.alloc(40)]));
    const frame = await reader.next();
    const err = await rejection(
      (async () => {
        for await (const _chunk of frame?.payload ?? []);
      })(),
    );
    expect(err.code).toBe("ECONNLOST");
    expect(err.details).toEqual({ received: 40, size: 100 });
  });

  it("reports ECONNLOST when the stream ends while skipping an unread payload", async () => {
    const header = encodeFrame({ cmd: "data", id: 1, offset: 0, size: 100 });
    const reader = new FrameReader(fromChunks([header, Buffer.alloc(40)]));
    expect((await reader.next())?.size).toBe(100);
    expect((await rejection(reader.next())).code).toBe("ECONNLOST");
  });

  it("turns a failing source into ECONNLOST", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield encodeFrame({ cmd: "bye", id: 1 });
      throw new Error("socket hang up");
    }
    const reader = new FrameReader(failing());
    expect((await reader.next())?.header).toEqual({ cmd: "bye", id: 1 });
    expect((await rejection(reader.next())).code).toBe("ECONNLOST");
  });

  it("passes a FerryError from the source through unchanged", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* [];
      throw new FerryError("ETIMEDOUT", "idle");
    }
    expect((await rejection(new FrameReader(failing()).next())).code).toBe("ETIMEDOUT");
  });

  it("rejects an oversized prefix with ETOOBIG without pulling the header", async () => {
    let pulls = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield Buffer.from([0xff, 0xff, 0xff, 0xff]);
      for (;;) {
        pulls++;
        yield Buffer.alloc(1024 * 1024);
      }
    }
    const err = await rejection(new FrameReader(endless()).next());
    expect(err.code).toBe("ETOOBIG");
    expect(pulls).toBe(0);
  });

  it("honours a configured maxHeaderBytes", async () => {
    const big = encodeFrame({ cmd: "stat", id: 1, path: "p".repeat(2000) }, 4096);
    expect((await rejection(readAll(fromChunks([big]), { maxHeaderBytes: 1024 }))).code).toBe("ETOOBIG");
    expect(await readAll(fromChunks([big]), { maxHeaderBytes: 4096 })).toHaveLength(1);
  });

  it("ends cleanly, throws ECONNLOST, ETOOBIG or EPROTO, and nothing else, on corrupted input (property)", async () => {
    const mutation = fc.record({
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      truncateTo: fc.option(fc.nat(), { nil: undefined }),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
      skipPayloads: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ flips, truncateTo, cuts, skipPayloads }) => {
        const bytes = Buffer.from(stream);
        for (const { at, value } of flips) bytes[at % bytes.length] = value;
        const cut = truncateTo === undefined ? bytes : bytes.subarray(0, truncateTo % (bytes.length + 1));
        const reader = new FrameReader(fromChunks(splitAt(cut, cuts)), { maxHeaderBytes: 4096 });
        try {
          for (let frame = await reader.next(); frame; frame = await reader.next()) {
            if (!skipPayloads) for await (const _chunk of frame.payload);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(FerryError);
          expect(["ECONNLOST", "ETOOBIG", "EPROTO"]).toContain((err as FerryError).code);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("streams 2 GiB of an endless payload in bounded memory", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    const count = 2048;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield encodeFrame({ cmd: "data", id: 1, offset: 0, size: MAX_SIZE });
      for (let i = 0; i < count; i++) yield chunk;
    }
    const reader = new FrameReader(source());
    const frame = await reader.next();
    expect(frame?.size).toBe(MAX_SIZE);
    const before = process.memoryUsage();
    let peak = 0;
    let total = 0;
    let chunks = 0;
    const err = await rejection(
      (async () => {
        for await (const piece of frame?.payload ?? []) {
          total += piece.length;
          if (++chunks % 256 === 0) {
            const now = process.memoryUsage();
            peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers, now.rss - before.rss);
          }
        }
      })(),
    );
    expect(err.code).toBe("ECONNLOST"); // the source ended long before 2^53-1 bytes
    expect(total).toBe(count * chunk.length);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("encoder → loopback socket → FrameReader", () => {
  it("carries the sample frames over a real socket", async () => {
    const { client, server } = await socketPair();
    const read = readAll(server);
    for (const f of frames) {
      if (f.header.cmd === "data") {
        await writeDataFrame(client, f.header as never, fromChunks(splitAt(f.payload, [10, 11])));
      } else {
        await writeFrame(client, f.header);
      }
    }
    client.end();
    expect(await read).toEqual(frames);
  });

  it("streams a 1 GiB payload with matching byte count and md5 on both sides", async () => {
    const size = 1024 ** 3;
    const chunkSize = 1024 * 1024;
    const { client, server } = await socketPair();
    const base = Buffer.alloc(chunkSize);
    for (let i = 0; i < chunkSize; i += 4) base.writeUInt32LE((i * 2654435761) >>> 0, i);

    const sentHash = createHash("md5");
    let sent = 0;
    let peak = 0;
    const before = process.memoryUsage();
    // Generated on the fly, each chunk stamped with its index; a chunk is never reused while it may
    // still sit in the socket's write queue.
    async function* generate(): AsyncGenerator<Buffer> {
      for (let n = 0; n < size / chunkSize; n++) {
        const chunk = Buffer.allocUnsafe(chunkSize);
        base.copy(chunk);
        chunk.writeUInt32BE(n, 0);
        sentHash.update(chunk);
        sent += chunk.length;
        if (n % 64 === 0) {
          const now = process.memoryUsage();
          peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers, now.rss - before.rss);
        }
        yield chunk;
      }
    }

    const receive = (async () => {
      const reader = new FrameReader(server);
      const frame = await reader.next();
      const hash = createHash("md5");
      let received = 0;
      for await (const chunk of frame?.payload ?? []) {
        hash.update(chunk);
        received += chunk.length;
      }
      const end = await reader.next();
      expect(await reader.next()).toBeNull();
      return { header: frame?.header, received, md5: hash.digest("hex"), end: end?.header };
    })();

    await writeDataFrame(client, { cmd: "data", id: 7, offset: 0, size }, generate());
    const md5 = sentHash.digest("hex");
    await writeFrame(client, { cmd: "end", id: 7, md5 });
    client.end();

    const got = await receive;
    expect(sent).toBe(size);
    expect(got.header).toEqual({ cmd: "data", id: 7, offset: 0, size });
    expect(got.received).toBe(size);
    expect(got.md5).toBe(md5);
    expect(got.end).toEqual({ cmd: "end", id: 7, md5 });
    // Backpressure holds the sender to a few chunks in flight; holding the payload would be 1 GiB.
    expect(peak).toBeLessThan(256 * 1024 * 1024);
  });

  it("reports ECONNLOST when the peer dies mid-payload", async () => {
    const { client, server } = await socketPair();
    const reader = new FrameReader(server);
    client.write(encodeFrame({ cmd: "data", id: 1, offset: 0, size: 1000 }));
    client.write(Buffer.alloc(10));
    const frame = await reader.next();
    client.destroy();
    const err = await rejection(
      (async () => {
        for await (const _chunk of frame?.payload ?? []);
      })(),
    );
    expect(err.code).toBe("ECONNLOST");
  });

  it("stops the sender while the receiver does not read (backpressure through the socket)", async () => {
    const { client, server } = await socketPair();
    const reader = new FrameReader(server);
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024);
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 4096; i++) {
        produced += chunk.length;
        yield Buffer.from(chunk);
      }
    }
    const size = 4096 * chunk.length;
    const writing = writeDataFrame(client, { cmd: "data", id: 1, offset: 0, size }, source());
    const frame = await reader.next();
    // Read one chunk, then stop reading for a while: the writer must stall well short of 256 MiB.
    const iterator = frame?.payload[Symbol.asyncIterator]();
    await iterator?.next();
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    const stalledAt = produced;
    expect(stalledAt).toBeLessThan(size / 4);
    let rest = 0;
    for (let r = await iterator?.next(); r && !r.done; r = await iterator?.next()) rest += r.value.length;
    await writing;
    expect(produced).toBe(size);
    expect(rest).toBeGreaterThan(0);
  });
});
