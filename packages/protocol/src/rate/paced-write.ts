import type { Writable } from "node:stream";
import { FerryError } from "../errors.js";
import { drained } from "../frame/encoder.js";
import { slices, type TokenBucket } from "./token-bucket.js";

/**
 * Writes `chunk` to `out`, or without a bucket in one write, or in slices of at most `bucket.slice`
 * bytes, each written only once the bucket allows it and the stream has drained from the previous
 * one: the limit never queues more in the stream than an unlimited write would. `onWritten` is the
 * last write's callback (the chunk's memory may be reused then); `onSlice` hears of every slice as
 * it goes (progress). Returns what the last write returned: false means await `drained(out)`.
 */
export async function writePaced(
  out: Writable,
  chunk: Uint8Array,
  bucket: TokenBucket | null,
  onWritten?: (err?: Error | null) => void,
  onSlice?: (bytes: number) => void,
): Promise<boolean> {
  if (bucket === null) {
    const more = out.write(chunk, onWritten);
    onSlice?.(chunk.byteLength);
    return more;
  }
  const parts = [...slices(chunk, bucket.slice)];
  let more = true;
  for (const [i, part] of parts.entries()) {
    if (!more) await drained(out);
    await bucket.take(part.byteLength);
    if (out.destroyed || out.writableEnded) throw new FerryError("ECONNLOST", "the connection is closed");
    more = out.write(part, i === parts.length - 1 ? onWritten : undefined);
    onSlice?.(part.byteLength);
  }
  return more;
}
