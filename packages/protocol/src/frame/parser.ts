import { FerryError } from "../errors.js";
import { DEFAULT_MAX_HEADER_BYTES, MAX_HEADER_BYTES_LIMIT, MAX_SIZE } from "../limits.js";

export interface ParserOptions {
  /** Headers longer than this are rejected from their length prefix alone (ETOOBIG). */
  maxHeaderBytes?: number;
}

/**
 * What the parser has found:
 * - `header`: a complete header object; `payloadSize` bytes of payload follow it (0 for all but `data`).
 * - `payload`: the next slice of the current payload (a view into the pushed chunk, not a copy).
 */
export type ParseEvent =
  | { kind: "header"; header: Record<string, unknown>; payloadSize: number }
  | { kind: "payload"; chunk: Buffer };

const LENGTH_BYTES = 4;
const EMPTY = Buffer.alloc(0);
// ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse rejects it: the header is strict UTF-8 JSON.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The frame decoder: a synchronous state machine over a byte stream (read length → read header →
 * pass payload through). Push chunks of any size; call `next()` until it returns null, which means
 * "waiting for more bytes". It holds at most one pushed chunk plus one header (≤ maxHeaderBytes), so
 * its memory is bounded whatever the peer sends. Malformed input throws a FerryError from `next()`
 * and leaves the parser failed: after a framing error the byte stream cannot be trusted.
 */
export class FrameParser {
  readonly maxHeaderBytes: number;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private state: "length" | "header" | "payload" | "failed" = "length";
  /** Assembles a length prefix that arrives split across chunks. */
  private readonly lengthBytes = Buffer.alloc(LENGTH_BYTES);
  /** The buffer being filled: `lengthBytes`, or a header that arrives split across chunks. */
  private header: Buffer = this.lengthBytes;
  private filled = 0;
  private payloadLeft = 0;
  private failure: FerryError | null = null;

  constructor(options: ParserOptions = {}) {
    const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    if (!Number.isInteger(max) || max < 16 || max > MAX_HEADER_BYTES_LIMIT) {
      throw new RangeError(`maxHeaderBytes must be an integer from 16 to ${MAX_HEADER_BYTES_LIMIT}`);
    }
    this.maxHeaderBytes = max;
  }

  /** True when every pushed byte has been consumed by `next()`. */
  get drained(): boolean {
    return this.pos >= this.chunk.length;
  }

  /** True between frames: an end of stream here is a clean close. */
  get atFrameBoundary(): boolean {
    const betweenFrames =
      (this.state === "length" && this.filled === 0) || (this.state === "payload" && this.payloadLeft === 0);
    return betweenFrames && this.drained;
  }

  /** Payload bytes of the current frame still to come. */
  get payloadRemaining(): number {
    return this.state === "payload" ? this.payloadLeft : 0;
  }

  /** Hands the parser the next bytes. Only call when `next()` has returned null (it consumed the last chunk). */
  push(chunk: Uint8Array): void {
    if (!this.drained) throw new Error("FrameParser.push called before the previous chunk was consumed");
    this.chunk = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pos = 0;
  }

  next(): ParseEvent | null {
    if (this.failure) throw this.failure;
    for (;;) {
      if (this.state === "payload") {
        if (this.payloadLeft === 0) {
          this.startLength();
          continue;
        }
        if (this.drained) return this.waitForBytes();
        const take = Math.min(this.payloadLeft, this.chunk.length - this.pos);
        const slice = this.chunk.subarray(this.pos, this.pos + take);
        this.pos += take;
        this.payloadLeft -= take;
        return { kind: "payload", chunk: slice };
      }
      if (this.state === "length") {
        let length: number;
        if (this.filled === 0 && this.chunk.length - this.pos >= LENGTH_BYTES) {
          // The usual case: the whole prefix is in this chunk, read it in place.
          length = this.chunk.readUInt32BE(this.pos);
          this.pos += LENGTH_BYTES;
        } else {
          if (!this.fill()) return this.waitForBytes();
          length = this.lengthBytes.readUInt32BE(0);
        }
        if (length > this.maxHeaderBytes) {
          this.fail("ETOOBIG", `header of ${length} bytes is over the ${this.maxHeaderBytes}-byte limit`);
        }
        if (length === 0) this.fail("EPROTO", "header length is 0");
        if (this.chunk.length - this.pos >= length) {
          // The whole header is in this chunk: decode it in place, without copying it.
          const bytes = this.chunk.subarray(this.pos, this.pos + length);
          this.pos += length;
          return this.finishHeader(bytes);
        }
        this.state = "header";
        this.header = Buffer.allocUnsafe(length);
        this.filled = 0;
        continue;
      }
      if (!this.fill()) return this.waitForBytes();
      return this.finishHeader(this.header);
    }
  }

  /** Everything pushed is consumed: drop the chunk so the parser holds no payload memory while waiting. */
  private waitForBytes(): null {
    this.chunk = EMPTY;
    this.pos = 0;
    return null;
  }

  private startLength(): void {
    this.state = "length";
    this.header = this.lengthBytes;
    this.filled = 0;
  }

  /** Copies bytes into the length/header buffer; true when it is full. */
  private fill(): boolean {
    const want = this.header.length - this.filled;
    const take = Math.min(want, this.chunk.length - this.pos);
    if (take > 0) {
      this.chunk.copy(this.header, this.filled, this.pos, this.pos + take);
      this.pos += take;
      this.filled += take;
    }
    return this.filled === this.header.length;
  }

  private finishHeader(bytes: Buffer): ParseEvent {
    this.header = this.lengthBytes;
    this.filled = 0;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      this.fail("EPROTO", "header is not valid UTF-8");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.fail("EPROTO", "header is not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail("EPROTO", "header is not a JSON object");
    }
    const header = value as Record<string, unknown>;
    let payloadSize = 0;
    if (header.cmd === "data") {
      const size = header.size;
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE) {
        this.fail("EPROTO", 'field "size" of a data frame must be an integer from 0 to 2^53-1');
      }
      payloadSize = size === 0 ? 0 : size; // JSON "-0" parses to -0
    }
    this.state = "payload";
    this.payloadLeft = payloadSize;
    return { kind: "header", header, payloadSize };
  }

  private fail(code: "EPROTO" | "ETOOBIG", message: string): never {
    this.state = "failed";
    this.failure = new FerryError(code, message);
    this.chunk = EMPTY;
    this.pos = 0;
    throw this.failure;
  }
}
