import type { Readable } from "node:stream";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import type { S3Place } from "./s3-place.js";
import type { S3File } from "./s3-stat.js";

/**
 * Yields bytes [start, end) of `file` with one ranged GetObject, pinned to the version that was
 * stat'ed (If-Match on its ETag): an object replaced mid-transfer is ECHANGED, never a mix of two
 * versions. The HTTP body streams with its own backpressure (the SDK reads as the caller pulls);
 * breaking out of the loop destroys it.
 */
export async function* readObjectRange(
  place: S3Place,
  file: S3File,
  start: number,
  end: number,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const out = await place.client.send(
    new GetObjectCommand({
      Bucket: place.bucket,
      Key: file.key,
      Range: `bytes=${start}-${end - 1}`,
      ...(file.etag ? { IfMatch: file.etag } : {}),
    }),
    signal ? { abortSignal: signal } : {},
  );
  const body = out.Body as Readable | undefined;
  if (!body) throw new FerryError("EINTERNAL", "the object store sent no body");
  let got = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      got += buf.length;
      if (got > end - start) throw new FerryError("ECHANGED", "the object grew while it was being read");
      yield buf;
    }
  } finally {
    body.destroy();
  }
  if (got !== end - start) throw new FerryError("ECHANGED", "the object shrank while it was being read");
}
