import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FerryError } from "../errors.js";
import { DEFAULT_MAX_HEADER_BYTES, MAX_HEADER_BYTES_LIMIT, MAX_SIZE } from "../limits.js";
import { encodeFrame } from "./encoder.js";
import {
  encodeAll,
  parseChunks,
  prefix,
  rawFrame,
  sampleFrames,
  splitAt,
  type WireFrame,
} from "./frames.test-helpers.js";
import { FrameParser } from "./parser.js";

const frames = sampleFrames();
const stream = encodeAll(frames);

function expectFrames(got: { frames: WireFrame[]; atBoundary: boolean }): void {
  expect(got.frames).toEqual(frames);
  expect(got.atBoundary).toBe(true);
}

/** The error `next()` throws after `bytes` are pushed (in one chunk), or fails the test. */
function rejectionOf(bytes: Buffer, parser = new FrameParser()): FerryError {
  try {
    parser.push(bytes);
    while (parser.next()) {
      // drain events until the parser fails or waits
    }
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error("the parser accepted the bytes");
}

describe("FrameParser chunking", () => {
  it("decodes all frames glued in one chunk", () => {
    expectFrames(parseChunks([stream]));
  });

  it("decodes the stream split in two at every possible point", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expectFrames(parseChunks([stream.subarray(0, cut), stream.subarray(cut)]));
    }
  });

  it("decodes the stream split in three at every pair of points around the data frame", () => {
    // The first data frame's prefix, header and payload, cut twice at every combination of points.
    const start = encodeAll(frames.slice(0, 2)).length;
    const end = encodeAll(frames.slice(0, 3)).length;
    for (let a = start; a <= end; a += 3) {
      for (let b = a; b <= end; b += 7) {
        expectFrames(parseChunks(splitAt(stream, [a, b])));
      }
    }
  });

  it("decodes the stream fed one byte at a time", () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expectFrames(parseChunks(bytes));
  });

  it("accepts empty chunks anywhere", () => {
    const chunks = splitAt(stream, [1, 2, 50, 51]).flatMap((c) => [Buffer.alloc(0), c]);
    expectFrames(parseChunks(chunks));
  });

  it("accepts plain Uint8Arrays that are views into a larger buffer", () => {
    const backing = new Uint8Array(stream.length + 20);
    backing.set(stream, 10);
    const view = new Uint8Array(backing.buffer, 10, stream.length);
    expectFrames(parseChunks([view.subarray(0, 37), view.subarray(37)]));
  });

  it("decodes any random chunking (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }), (cuts) => {
        expectFrames(parseChunks(splitAt(stream, cuts)));
      }),
      { numRuns: 500 },
    );
  });

  it("decodes random frame sequences under random chunkings (property)", () => {
    const frameArb = fc.oneof(
      fc
        .record({ id: fc.nat(), path: fc.string({ minLength: 1 }) })
        .map((h) => ({ header: { cmd: "stat", ...h }, payload: Buffer.alloc(0) })),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => ({
        header: { cmd: "data", id: 1, offset: 0, size: bytes.length },
        payload: Buffer.from(bytes),
      })),
      fc
        .dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 })
        .filter((h) => h.cmd !== "data")
        .map((header) => ({ header: header as Record<string, unknown>, payload: Buffer.alloc(0) })),
    );
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (fs, cuts) => {
        const bytes = encodeAll(fs);
        const got = parseChunks(splitAt(bytes, cuts));
        // JSON round trip is the reference: it drops -0 and the like the same way the wire does.
        const expected = fs.map((f) => ({
          header: JSON.parse(JSON.stringify(f.header)),
          payload: f.payload,
        }));
        expect(got.frames).toEqual(expected);
        expect(got.atBoundary).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("returns payload slices that are views of the pushed chunk, not copies", () => {
    const payload = Buffer.alloc(1000, 9);
    const chunk = Buffer.concat([encodeFrame({ cmd: "data", id: 1, offset: 0, size: 1000 }), payload]);
    const parser = new FrameParser();
    parser.push(chunk);
    expect(parser.next()).toMatchObject({ kind: "header", payloadSize: 1000 });
    const event = parser.next();
    expect(event?.kind).toBe("payload");
    if (event?.kind !== "payload") return;
    expect(event.chunk.buffer).toBe(chunk.buffer);
    expect(event.chunk.byteOffset).toBe(chunk.byteOffset + chunk.length - 1000);
    expect(event.chunk.length).toBe(1000);
  });

  it("tracks payloadRemaining, drained and atFrameBoundary", () => {
    const parser = new FrameParser();
    expect(parser.atFrameBoundary).toBe(true);
    const header = encodeFrame({ cmd: "data", id: 1, offset: 0, size: 10 });
    parser.push(header.subarray(0, 2));
    expect(parser.next()).toBeNull();
    expect(parser.atFrameBoundary).toBe(false);
    parser.push(header.subarray(2));
    expect(parser.next()).toMatchObject({ kind: "header" });
    expect(parser.payloadRemaining).toBe(10);
    expect(parser.atFrameBoundary).toBe(false);
    parser.push(Buffer.alloc(4));
    expect(parser.next()).toMatchObject({ kind: "payload" });
    expect(parser.payloadRemaining).toBe(6);
    expect(parser.next()).toBeNull();
    parser.push(Buffer.alloc(6));
    expect(parser.next()).toMatchObject({ kind: "payload" });
    expect(parser.payloadRemaining).toBe(0);
    expect(parser.drained).toBe(true);
    expect(parser.atFrameBoundary).toBe(true);
  });

  it("refuses a push before the previous chunk was consumed", () => {
    const parser = new FrameParser();
    parser.push(stream);
    expect(() => parser.push(stream)).toThrow();
  });

  it("validates its maxHeaderBytes option", () => {
    expect(() => new FrameParser({ maxHeaderBytes: 15 })).toThrow(RangeError);
    expect(() => new FrameParser({ maxHeaderBytes: 100.5 })).toThrow(RangeError);
    expect(() => new FrameParser({ maxHeaderBytes: MAX_HEADER_BYTES_LIMIT + 1 })).toThrow(RangeError);
    expect(new FrameParser().maxHeaderBytes).toBe(DEFAULT_MAX_HEADER_BYTES);
    expect(new FrameParser({ maxHeaderBytes: 16 }).maxHeaderBytes).toBe(16);
  });
});

describe("FrameParser rejections", () => {
  it("rejects a length prefix over the limit with ETOOBIG from the prefix alone", () => {
    const parser = new FrameParser();
    parser.push(prefix(DEFAULT_MAX_HEADER_BYTES + 1));
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: "ETOOBIG" }));
  });

  it("accepts a header of exactly the limit", () => {
    const max = 64;
    const pad = "x".repeat(max - JSON.stringify({ cmd: "bye", p: "" }).length);
    const header = { cmd: "bye", p: pad };
    expect(encodeFrame(header).length).toBe(4 + max);
    expect(parseChunks([encodeFrame(header)], { maxHeaderBytes: max }).frames[0]?.header).toEqual(header);
    const over = encodeFrame({ cmd: "bye", p: `${pad}x` });
    expect(rejectionOf(over, new FrameParser({ maxHeaderBytes: max })).code).toBe("ETOOBIG");
  });

  it("honours a configured maxHeaderBytes both ways", () => {
    const header = encodeFrame({ cmd: "stat", id: 1, path: "p".repeat(100_000) }, 200_000);
    expect(rejectionOf(header).code).toBe("ETOOBIG");
    const parsed = parseChunks([header], { maxHeaderBytes: 200_000 });
    expect(parsed.frames[0]?.header.path).toHaveLength(100_000);
    expect(
      rejectionOf(encodeFrame({ cmd: "bye", id: 1 }), new FrameParser({ maxHeaderBytes: 16 })).code,
    ).toBe("ETOOBIG");
  });

  it("rejects a 4 GiB length prefix at once, allocating nothing", () => {
    const before = process.memoryUsage().arrayBuffers;
    const parser = new FrameParser();
    parser.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7b, 0x7d]));
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: "ETOOBIG" }));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("rejects a 4 GiB prefix split byte by byte as soon as the 4th byte comes", () => {
    const parser = new FrameParser();
    for (let i = 0; i < 3; i++) {
      parser.push(Buffer.from([0xff]));
      expect(parser.next()).toBeNull();
    }
    parser.push(Buffer.from([0xff]));
    expect(() => parser.next()).toThrow(expect.objectContaining({ code: "ETOOBIG" }));
  });

  it("rejects a header length of 0", () => {
    expect(rejectionOf(prefix(0)).code).toBe("EPROTO");
  });

  it.each([
    ["a lone continuation byte", [0x7b, 0x80, 0x7d]],
    ["a truncated 2-byte sequence", [0x7b, 0x22, 0xc3, 0x22, 0x7d]],
    ["an overlong encoding of '/'", [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]],
    ["an encoded surrogate", [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]],
    ["a byte 0xff", [0x7b, 0xff, 0x7d]],
    ["a code point over U+10FFFF", [0x7b, 0x22, 0xf4, 0x90, 0x80, 0x80, 0x22, 0x3a, 0x31, 0x7d]],
  ])("rejects a header that is not UTF-8: %s", (_name, bytes) => {
    const err = rejectionOf(rawFrame(Buffer.from(bytes)));
    expect(err.code).toBe("EPROTO");
    expect(err.message).toMatch(/UTF-8/);
  });

  it("rejects invalid UTF-8 also when the header arrives split", () => {
    const bytes = rawFrame(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d]));
    const parser = new FrameParser();
    parser.push(bytes.subarray(0, 6));
    expect(parser.next()).toBeNull();
    expect(rejectionOf(bytes.subarray(6), parser).code).toBe("EPROTO");
  });

  it.each([
    ["an empty-looking body", " "],
    ["a truncated object", '{"cmd":"bye"'],
    ["single quotes", "{'cmd':'bye'}"],
    ["a trailing comma", '{"cmd":"bye",}'],
    ["NaN", '{"cmd":"data","size":NaN}'],
    ["two objects", '{"a":1}{"b":2}'],
    ["a byte-order mark", "\uFEFF{}"],
  ])("rejects a header that is not JSON: %s", (_name, body) => {
    const err = rejectionOf(rawFrame(body));
    expect(err.code).toBe("EPROTO");
    expect(err.message).toMatch(/JSON/);
  });

  it.each([
    ["an array", "[]"],
    ["a number", "42"],
    ["null", "null"],
    ["a string", '"cmd"'],
    ["true", "true"],
  ])("rejects a header that is JSON but not an object: %s", (_name, body) => {
    const err = rejectionOf(rawFrame(body));
    expect(err.code).toBe("EPROTO");
    expect(err.message).toMatch(/object/);
  });

  it.each([
    ["negative", -1],
    ["fractional", 1.5],
    ["a string", "10"],
    ["null", null],
    ["missing", undefined],
    ["over 2^53-1", MAX_SIZE + 1],
    ["far over 2^53-1", 1e300],
  ])("rejects a data frame whose size is %s", (_name, size) => {
    const err = rejectionOf(encodeFrame({ cmd: "data", id: 1, offset: 0, size }));
    expect(err.code).toBe("EPROTO");
    expect(err.message).toMatch(/size/);
  });

  it("rejects a data size written as 1e400 (Infinity once parsed)", () => {
    expect(rejectionOf(rawFrame('{"cmd":"data","id":1,"offset":0,"size":1e400}')).code).toBe("EPROTO");
  });

  it("accepts data sizes 0, 2^53-1 and -0 (as 0)", () => {
    for (const [body, size] of [
      ['{"cmd":"data","size":0}', 0],
      [`{"cmd":"data","size":${MAX_SIZE}}`, MAX_SIZE],
      ['{"cmd":"data","size":-0}', 0],
      ['{"cmd":"data","size":1.0}', 1],
    ] as const) {
      const parser = new FrameParser();
      parser.push(rawFrame(body));
      const event = parser.next();
      expect(event).toMatchObject({ kind: "header" });
      expect(event?.kind === "header" && Object.is(event.payloadSize, size)).toBe(true);
    }
  });

  it("gives other frames no payload whatever their size field says", () => {
    const got = parseChunks([
      encodeFrame({ cmd: "put", id: 1, path: "a", size: 5 }),
      encodeFrame({ cmd: "bye" }),
    ]);
    expect(got.frames.map((f) => f.payload.length)).toEqual([0, 0]);
    expect(got.frames[1]?.header).toEqual({ cmd: "bye" });
  });

  it("stays failed after an error: every later next() throws the same error", () => {
    const parser = new FrameParser();
    const err = rejectionOf(rawFrame("[]"), parser);
    expect(() => parser.next()).toThrow(err);
    parser.push(encodeFrame({ cmd: "bye", id: 1 }));
    expect(() => parser.next()).toThrow(err);
    expect(parser.atFrameBoundary).toBe(false);
  });

  it("never throws anything but a FerryError on random bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const parser = new FrameParser({ maxHeaderBytes: 1024 });
        try {
          for (const chunk of splitAt(Buffer.from(bytes), cuts)) {
            parser.push(chunk);
            while (parser.next());
          }
        } catch (err) {
          expect(err).toBeInstanceOf(FerryError);
          expect(["EPROTO", "ETOOBIG"]).toContain((err as FerryError).code);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws anything but a FerryError on a corrupted or truncated valid stream (property)", () => {
    const mutation = fc.record({
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      truncateTo: fc.option(fc.nat(), { nil: undefined }),
      cuts: fc.array(fc.nat(), { maxLength: 10 }),
    });
    fc.assert(
      fc.property(mutation, ({ flips, truncateTo, cuts }) => {
        const bytes = Buffer.from(stream);
        for (const { at, value } of flips) bytes[at % bytes.length] = value;
        const cut = truncateTo === undefined ? bytes : bytes.subarray(0, truncateTo % (bytes.length + 1));
        try {
          parseChunks(splitAt(cut, cuts), { maxHeaderBytes: 4096 });
        } catch (err) {
          expect(err).toBeInstanceOf(FerryError);
          expect(["EPROTO", "ETOOBIG"]).toContain((err as FerryError).code);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("FrameParser memory", () => {
  it("streams 8 GiB of an endless payload holding no more than the current chunk", () => {
    const chunk = Buffer.alloc(1024 * 1024, 0xab);
    const parser = new FrameParser();
    parser.push(encodeFrame({ cmd: "data", id: 1, offset: 0, size: MAX_SIZE }));
    expect(parser.next()).toMatchObject({ kind: "header", payloadSize: MAX_SIZE });
    expect(parser.next()).toBeNull();
    const before = process.memoryUsage();
    let peak = 0;
    let total = 0;
    for (let i = 0; i < 8192; i++) {
      parser.push(chunk);
      const event = parser.next();
      if (event?.kind !== "payload") throw new Error("expected a payload slice");
      // Not a copy: the slice shares the pushed chunk's memory.
      expect(event.chunk.buffer).toBe(chunk.buffer);
      total += event.chunk.length;
      expect(parser.next()).toBeNull();
      if (i % 512 === 0) {
        const now = process.memoryUsage();
        peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers, now.rss - before.rss);
      }
    }
    expect(total).toBe(8 * 1024 ** 3);
    expect(parser.payloadRemaining).toBe(MAX_SIZE - total);
    // Generous: keeping even 1% of the stream would be 80 MiB.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });
});
