import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import type { S3Place } from "./s3-place.js";

/**
 * Aborts the multipart uploads under the place's prefix that began more than `staleMs` ago (the
 * partials of puts nobody resumed, and uploads of a ferryd that died), and removes upload state
 * objects as old. Any ferryd of the bucket may do it; each abort is idempotent. Returns how many
 * uploads were aborted.
 */
export async function abortStaleUploads(place: S3Place, staleMs: number, now = Date.now()): Promise<number> {
  const { client, bucket, keys } = place;
  const before = now - staleMs;
  let aborted = 0;
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  do {
    const out = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: keys.prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: idMarker,
      }),
    );
    for (const u of out.Uploads ?? []) {
      if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? now) > before) continue;
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }))
        .catch(() => {});
      aborted++;
    }
    keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    idMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
  } while (keyMarker);
  let token: string | undefined;
  do {
    const out = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: keys.uploadStates, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) {
      if (o.Key && (o.LastModified?.getTime() ?? now) <= before)
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key })).catch(() => {});
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return aborted;
}
