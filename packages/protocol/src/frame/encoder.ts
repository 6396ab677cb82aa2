import type { Writable } from "node:stream";
import { FerryError } from "../errors.js";
import { DEFAULT_MAX_HEADER_BYTES } from "../limits.js";

/** One frame header on the wire: u32 big-endian length, then that many bytes of UTF-8 JSON. */
export function encodeFrame(header: object, maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES): Buffer {
  const json = JSON.stringify(header);
  const length = Buffer.byteLength(json, "utf8");
  if (length > maxHeaderBytes) {
    throw new FerryError("ETOOBIG", `header of ${length} bytes is over the ${maxHeaderBytes}-byte limit`);
  }
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4, "utf8");
  return frame;
}

/**
 * The stream buffer both ends give their sockets (Node's default is 16 KiB). Each end corks its
 * socket for a turn of the event loop so that a burst of pipelined small requests or answers leaves
 * in one write, and drained() must flush that cork once the buffer passes the mark: at 16 KiB a
 * burst of 4 KiB files was cut into one syscall per file after the fourth.
 */
export const SOCKET_HIGH_WATER_MARK = 256 * 1024;

/**
 * Resolves once `out` can take more, rejects if it closes or fails first. A corked stream is uncorked
 * before waiting, since it would otherwise never drain.
 */
export function drained(out: Writable): Promise<void> {
  // writableNeedDrain is false on a destroyed stream, which would otherwise look like "ready".
  if (out.destroyed) return Promise.reject(new FerryError("ECONNLOST", "the connection is closed"));
  if (!out.writableNeedDrain) return Promise.resolve();
  // A corked stream never drains: waiting on it would hang forever, so flush it first.
  while (out.writableCorked > 0) out.uncork();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      out.off("error", onError);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new FerryError("ECONNLOST", "the connection closed while sending"));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new FerryError("ECONNLOST", `the connection failed while sending: ${err.message}`));
    };
    out.on("drain", onDrain);
    out.on("close", onClose);
    out.on("error", onError);
  });
}

function assertWritable(out: Writable): void {
  if (out.destroyed || out.writableEnded) throw new FerryError("ECONNLOST", "the connection is closed");
}

/** Writes a header frame, waiting while the peer is not reading. */
export async function writeFrame(out: Writable, header: object, maxHeaderBytes?: number): Promise<void> {
  assertWritable(out);
  if (!out.write(encodeFrame(header, maxHeaderBytes))) await drained(out);
}

/**
 * Writes a `data` frame: its header, then exactly `size` bytes from `source`, honouring backpressure.
 * A source that yields fewer or more bytes is a bug of the caller (the frame would be corrupt), so it
 * throws ESIZE; the connection must then be closed.
 */
export async function writeDataFrame(
  out: Writable,
  header: { cmd: "data"; id: number; offset: number; size: number },
  source: AsyncIterable<Uint8Array>,
): Promise<void> {
  await writeFrame(out, header);
  let sent = 0;
  for await (const chunk of source) {
    sent += chunk.length;
    if (sent > header.size) {
      throw new FerryError("ESIZE", `source yielded more than the declared ${header.size} bytes`, {
        sent,
        size: header.size,
      });
    }
    assertWritable(out);
    if (!out.write(chunk)) await drained(out);
  }
  if (sent !== header.size) {
    throw new FerryError("ESIZE", `source yielded ${sent} bytes, ${header.size} were declared`, {
      sent,
      size: header.size,
    });
  }
}
