import { encodeFrame } from "./encoder.js";
import { FrameParser, type ParserOptions } from "./parser.js";
import { FrameReader } from "./reader.js";

/** A frame as the tests think of it: a header and its whole payload (empty for all but data). */
export interface WireFrame {
  header: Record<string, unknown>;
  payload: Buffer;
}

/** Deterministic bytes that differ at every offset, so a misplaced byte shows up. */
export function pattern(length: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** Several kinds of frame back to back: requests, a data frame with payload, a 0-size data frame, replies. */
export function sampleFrames(): WireFrame[] {
  const data = pattern(300, 1);
  const none = Buffer.alloc(0);
  return [
    { header: { cmd: "hello", id: 0, version: 1, client: "ferry/0.1.0 ✓" }, payload: none },
    { header: { cmd: "put", id: 1, path: "a/ü.bin", size: 300 }, payload: none },
    { header: { cmd: "data", id: 1, offset: 0, size: 300 }, payload: data },
    { header: { cmd: "end", id: 1, md5: "0123456789abcdef0123456789abcdef" }, payload: none },
    { header: { cmd: "put", id: 2, path: "empty", size: 0 }, payload: none },
    { header: { cmd: "data", id: 2, offset: 0, size: 0 }, payload: none },
    { header: { cmd: "data", id: 3, offset: 5, size: 1 }, payload: Buffer.from([0]) },
    { header: { ok: false, id: null, code: "EPROTO", message: "x" }, payload: none },
    { header: { cmd: "bye", id: 4 }, payload: none },
  ];
}

export function encodeAll(frames: WireFrame[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [encodeFrame(f.header), f.payload]));
}

/** Splits `bytes` at the given offsets (sorted, deduplicated, within bounds). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  out.push(bytes.subarray(start));
  return out;
}

/** Runs the synchronous parser over chunks and gathers whole frames; also returns whether it ended between frames. */
export function parseChunks(
  chunks: Iterable<Uint8Array>,
  options?: ParserOptions,
): { frames: WireFrame[]; atBoundary: boolean } {
  const parser = new FrameParser(options);
  const frames: { header: Record<string, unknown>; parts: Buffer[] }[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let event = parser.next(); event; event = parser.next()) {
      if (event.kind === "header") frames.push({ header: event.header, parts: [] });
      else frames.at(-1)?.parts.push(Buffer.from(event.chunk));
    }
  }
  return {
    frames: frames.map((f) => ({ header: f.header, payload: Buffer.concat(f.parts) })),
    atBoundary: parser.atFrameBoundary,
  };
}

export async function* fromChunks(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** Reads every frame and its whole payload through a FrameReader. */
export async function readAll(
  source: AsyncIterable<Uint8Array>,
  options?: ParserOptions,
): Promise<WireFrame[]> {
  const reader = new FrameReader(source, options);
  const out: WireFrame[] = [];
  for (let frame = await reader.next(); frame; frame = await reader.next()) {
    const parts: Buffer[] = [];
    for await (const chunk of frame.payload) parts.push(Buffer.from(chunk));
    out.push({ header: frame.header, payload: Buffer.concat(parts) });
  }
  return out;
}

/** A u32 big-endian length prefix. */
export function prefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length, 0);
  return b;
}

/** A frame with an arbitrary raw header body (for malformed headers). */
export function rawFrame(body: Buffer | string): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return Buffer.concat([prefix(bytes.length), bytes]);
}
