import { FerryError } from "../errors.js";
import { FrameParser, type ParserOptions } from "./parser.js";

/** A decoded frame. `payload` yields exactly `size` bytes in chunks; it is empty for all but `data`. */
export interface Frame {
  header: Record<string, unknown>;
  size: number;
  payload: AsyncIterable<Buffer>;
}

const EMPTY: AsyncIterable<Buffer> = {
  async *[Symbol.asyncIterator]() {},
};

/**
 * Pulls frames from any async byte source (a socket, a stream, a generator). Pulling is the
 * backpressure: a socket iterated this way is paused while nobody asks for the next chunk, so a
 * slow disk under a 100 GiB payload holds the sender back instead of filling memory.
 *
 * Read a frame's payload before asking for the next frame; whatever is left unread is skipped.
 */
export class FrameReader {
  private readonly parser: FrameParser;
  private readonly source: AsyncIterator<Uint8Array>;
  /** Counts frames handed out, so a payload iterator knows when its frame is over. */
  private frameNo = 0;
  /** Payload size of the latest frame, for the ECONNLOST details. */
  private payloadSize = 0;

  constructor(source: AsyncIterable<Uint8Array>, options: ParserOptions = {}) {
    this.parser = new FrameParser(options);
    this.source = source[Symbol.asyncIterator]();
  }

  /** The next frame, or null when the stream ended cleanly between frames. */
  async next(): Promise<Frame | null> {
    // Skipping whatever the caller left unread of the previous payload; that also retires its iterator.
    this.frameNo++;
    while (this.parser.payloadRemaining > 0) {
      if (this.parser.next() === null && !(await this.pull())) throw this.lost();
    }
    for (;;) {
      const event = this.parser.next();
      if (event?.kind === "header") {
        const { header, payloadSize } = event;
        this.payloadSize = payloadSize;
        return { header, size: payloadSize, payload: payloadSize > 0 ? this.payload(this.frameNo) : EMPTY };
      }
      if (!(await this.pull())) {
        if (this.parser.atFrameBoundary) return null;
        throw new FerryError("ECONNLOST", "the connection closed in the middle of a frame header");
      }
    }
  }

  /**
   * Yields the current frame's payload. It stops, without touching the parser, once the caller has
   * moved on to a later frame: a stale iterator must never eat the next frame's header.
   */
  private async *payload(frameNo: number): AsyncGenerator<Buffer> {
    while (frameNo === this.frameNo && this.parser.payloadRemaining > 0) {
      const event = this.parser.next();
      if (event === null) {
        if (!(await this.pull())) throw this.lost();
      } else if (event.kind === "payload") {
        yield event.chunk;
      }
    }
  }

  private lost(): FerryError {
    const size = this.payloadSize;
    const got = size - this.parser.payloadRemaining;
    return new FerryError("ECONNLOST", `the connection closed after ${got} of ${size} payload bytes`, {
      received: got,
      size,
    });
  }

  private async pull(): Promise<boolean> {
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.source.next();
    } catch (err) {
      if (err instanceof FerryError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new FerryError("ECONNLOST", `the connection failed: ${message}`);
    }
    if (result.done) return false;
    if (result.value.length > 0) this.parser.push(result.value);
    return true;
  }
}
