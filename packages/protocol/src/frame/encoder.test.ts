import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FerryError } from "../errors.js";
import { DEFAULT_MAX_HEADER_BYTES } from "../limits.js";
import { drained, encodeFrame, writeDataFrame, writeFrame } from "./encoder.js";
import { fromChunks, parseChunks } from "./frames.test-helpers.js";

async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error("expected a rejection");
}

/**
 * A sink with a tiny buffer that completes each write only a few event-loop turns later, like a slow
 * peer. It records what it got and the most bytes ever queued in it.
 */
function slowSink(highWaterMark = 16): { out: Writable; received: () => Buffer; maxQueued: () => number } {
  const parts: Buffer[] = [];
  let maxQueued = 0;
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      setImmediate(() => setImmediate(callback));
    },
  });
  const write = out.write.bind(out);
  out.write = ((chunk: Buffer, ...rest: never[]) => {
    const result = write(chunk, ...rest);
    maxQueued = Math.max(maxQueued, out.writableLength);
    return result;
  }) as typeof out.write;
  return { out, received: () => Buffer.concat(parts), maxQueued: () => maxQueued };
}

/** A sink that never completes a write: only destroying it ends a wait for drain. */
function stuckSink(): Writable {
  return new Writable({ highWaterMark: 1, write() {} });
}

describe("encodeFrame", () => {
  it("writes a u32 big-endian byte length, then the UTF-8 JSON", () => {
    const header = { cmd: "stat", id: 1, path: "héllo/✓" };
    const frame = encodeFrame(header);
    const json = Buffer.from(JSON.stringify(header), "utf8");
    expect(frame.readUInt32BE(0)).toBe(json.length);
    expect(frame.subarray(4)).toEqual(json);
    expect(json.length).toBeGreaterThan(JSON.stringify(header).length); // multi-byte characters counted as bytes
  });

  it("rejects a header over the limit with ETOOBIG and allows exactly the limit", () => {
    const at = (n: number) => ({ p: "x".repeat(n - 8) }); // {"p":""} is 8 bytes
    expect(encodeFrame(at(DEFAULT_MAX_HEADER_BYTES)).length).toBe(4 + DEFAULT_MAX_HEADER_BYTES);
    expect(() => encodeFrame(at(DEFAULT_MAX_HEADER_BYTES + 1))).toThrow(
      expect.objectContaining({ code: "ETOOBIG" }),
    );
    expect(encodeFrame(at(100_000), 100_000).length).toBe(100_004);
    expect(() => encodeFrame(at(101), 100)).toThrow(expect.objectContaining({ code: "ETOOBIG" }));
  });
});

describe("writeFrame", () => {
  it("waits for drain when the stream is full", async () => {
    const { out, received } = slowSink(16);
    const header = { cmd: "stat", id: 1, path: "a".repeat(100) };
    await writeFrame(out, header);
    // Resolving only after 'drain' means the sink has taken everything.
    expect(out.writableLength).toBe(0);
    expect(parseChunks([received()]).frames[0]?.header).toEqual(header);
  });

  it("rejects with ECONNLOST on a destroyed or ended stream", async () => {
    const destroyed = stuckSink();
    destroyed.destroy();
    expect((await rejection(writeFrame(destroyed, { cmd: "bye", id: 1 }))).code).toBe("ECONNLOST");
    const ended = new Writable({ write: (_c, _e, cb) => cb() });
    ended.end();
    expect((await rejection(writeFrame(ended, { cmd: "bye", id: 1 }))).code).toBe("ECONNLOST");
  });

  it("rejects with ECONNLOST when the stream closes while waiting for drain", async () => {
    const out = stuckSink();
    const writing = writeFrame(out, { cmd: "bye", id: 1 });
    setImmediate(() => out.destroy());
    expect((await rejection(writing)).code).toBe("ECONNLOST");
  });

  it("rejects with ECONNLOST when the stream fails while waiting for drain", async () => {
    const out = stuckSink();
    const writing = writeFrame(out, { cmd: "bye", id: 1 });
    setImmediate(() => out.destroy(new Error("EPIPE")));
    const err = await rejection(writing);
    expect(err.code).toBe("ECONNLOST");
    expect(err.message).toMatch(/EPIPE/);
  });

  it("does not hang on a stream the caller corked", async () => {
    const { out, received } = slowSink(16);
    out.cork();
    out.cork();
    await writeFrame(out, { cmd: "stat", id: 1, path: "a".repeat(100) });
    await writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 100 }, fromChunks([Buffer.alloc(100)]));
    out.uncork();
    out.uncork();
    await drained(out);
    expect(parseChunks([received()]).frames).toHaveLength(2);
  });

  it("rejects an oversized header with ETOOBIG before writing anything", async () => {
    const { out, received } = slowSink();
    const err = await rejection(writeFrame(out, { p: "x".repeat(200) }, 100));
    expect(err.code).toBe("ETOOBIG");
    expect(received().length).toBe(0);
  });
});

describe("drained", () => {
  it("resolves at once when the stream has room, rejects when it is destroyed", async () => {
    const { out } = slowSink(1024);
    await expect(drained(out)).resolves.toBeUndefined();
    out.destroy();
    expect((await rejection(drained(out))).code).toBe("ECONNLOST");
  });

  it("removes its listeners once settled", async () => {
    const { out } = slowSink(1);
    const before = out.listenerCount("drain") + out.listenerCount("close") + out.listenerCount("error");
    out.write(Buffer.alloc(10));
    await drained(out);
    expect(out.listenerCount("drain") + out.listenerCount("close") + out.listenerCount("error")).toBe(before);
  });
});

describe("writeDataFrame", () => {
  it("writes the header and exactly the payload, holding back while the sink is slow", async () => {
    const { out, received, maxQueued } = slowSink(1024);
    const chunk = Buffer.alloc(1024, 7);
    let queuedWhenAsked = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 100; i++) {
        queuedWhenAsked = Math.max(queuedWhenAsked, out.writableLength);
        yield Buffer.from(chunk);
      }
    }
    await writeDataFrame(out, { cmd: "data", id: 5, offset: 0, size: 100 * 1024 }, source());
    // Without backpressure all 100 KiB would have queued up; with it, one chunk at most is pending
    // when the next is asked for.
    expect(queuedWhenAsked).toBeLessThanOrEqual(1024);
    expect(maxQueued()).toBeLessThanOrEqual(2 * 1024);
    const { frames } = parseChunks([received()]);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.header).toEqual({ cmd: "data", id: 5, offset: 0, size: 100 * 1024 });
    expect(frames[0]?.payload.length).toBe(100 * 1024);
  });

  it("writes a 0-size data frame from an empty source", async () => {
    const { out, received } = slowSink();
    await writeDataFrame(out, { cmd: "data", id: 1, offset: 3, size: 0 }, fromChunks([]));
    expect(parseChunks([received()]).frames).toEqual([
      { header: { cmd: "data", id: 1, offset: 3, size: 0 }, payload: Buffer.alloc(0) },
    ]);
  });

  it("throws ESIZE when the source yields too few bytes", async () => {
    const { out } = slowSink();
    const err = await rejection(
      writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 10 }, fromChunks([Buffer.alloc(9)])),
    );
    expect(err.code).toBe("ESIZE");
    expect(err.details).toEqual({ sent: 9, size: 10 });
  });

  it("throws ESIZE when the source yields too many bytes, without writing the excess", async () => {
    const { out, received } = slowSink();
    const source = fromChunks([Buffer.alloc(6, 1), Buffer.alloc(6, 2)]);
    const err = await rejection(writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 10 }, source));
    expect(err.code).toBe("ESIZE");
    const header = encodeFrame({ cmd: "data", id: 1, offset: 0, size: 10 });
    expect(received()).toEqual(Buffer.concat([header, Buffer.alloc(6, 1)]));
  });

  it("rejects with ECONNLOST when the stream is destroyed mid-payload", async () => {
    const { out } = slowSink();
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100);
      out.destroy();
      yield Buffer.alloc(100);
    }
    const err = await rejection(writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 200 }, source()));
    expect(err.code).toBe("ECONNLOST");
  });

  it("rejects with ECONNLOST on a stream destroyed before it starts", async () => {
    const out = stuckSink();
    out.destroy();
    const err = await rejection(
      writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 1 }, fromChunks([Buffer.alloc(1)])),
    );
    expect(err.code).toBe("ECONNLOST");
  });

  it("lets a source error through", async () => {
    const { out } = slowSink();
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(1);
      throw new FerryError("EACCES", "unreadable");
    }
    const err = await rejection(writeDataFrame(out, { cmd: "data", id: 1, offset: 0, size: 2 }, source()));
    expect(err.code).toBe("EACCES");
  });
});
