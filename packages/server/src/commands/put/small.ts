import { FerryError, hashOf, type PutRequest } from "@ferry/protocol";
import type { SessionIO } from "../../context.js";
import type { Upload } from "../../storage/storage.js";
import { beginPut } from "./begin.js";
import { expectData, expectTrailer, isConnectionLoss } from "./frames.js";

/**
 * Streamed puts up to this size are gathered in memory (bounded per session by the pipeline's
 * budget) and handed to storage in one write: a few filesystem calls instead of a dozen, and the
 * session can read the next file while this one is staged and committed.
 */
export const SMALL_PUT_MAX = 1024 * 1024;

export function isSmallPut(req: PutRequest): boolean {
  return req.handshake !== true && req.size <= SMALL_PUT_MAX;
}

/** A small put whose bytes are all here and handed to its upload, waiting for the tail. */
export interface ReceivedPut {
  readonly req: PutRequest;
  readonly upload: Upload;
  /** The client's hash in the put's alg (up front or from the trailer). */
  readonly expected: string;
}

/**
 * Everything of a small put that reads the connection, in request order: admission (so a refused
 * put is answered without waiting for its bytes, PROTOCOL.md §4), the payload into memory, the
 * trailer. A connection lost midway keeps what arrived as a resumable partial, like the big road.
 * On success the caller owns the upload.
 */
export async function receiveSmallPut(
  req: PutRequest,
  io: SessionIO,
  onBytes: (n: number) => void,
): Promise<ReceivedPut> {
  const upload = await beginPut(req, io);
  let got = 0;
  const bytes = Buffer.allocUnsafe(req.size);
  try {
    const { frame } = await expectData(io, req, 0);
    for await (const chunk of frame.payload) {
      if (got + chunk.length > bytes.length) throw new FerryError("ESIZE", "payload over the declared size");
      chunk.copy(bytes, got);
      got += chunk.length;
      onBytes(chunk.length);
    }
    const expected = hashOf(req) ?? (await expectTrailer(io, req));
    await upload.write(bytes);
    return { req, upload, expected };
  } catch (err) {
    const keep = isConnectionLoss(err) && got > 0;
    if (keep) await upload.write(bytes.subarray(0, got)).catch(() => {});
    await upload.abort(keep);
    throw err;
  }
}
