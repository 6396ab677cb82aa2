import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { copySource } from "./multipart-upload.js";
import { S3_MAX_COPY } from "./s3-config.js";
import type { S3Place } from "./s3-place.js";
import type { S3File } from "./s3-stat.js";

/** Bytes per UploadPartCopy when an object is too big for one CopyObject. */
const COPY_PART = 1024 * 1024 * 1024;

/**
 * Copies `file` to `toKey` inside the store (no byte passes through ferryd), metadata and all,
 * pinned to the version that was stat'ed (CopySourceIfMatch: ECHANGED if it was replaced). Up to
 * 5 GiB with one CopyObject, bigger ones part by part.
 */
export async function copyObject(place: S3Place, file: S3File, toKey: string): Promise<void> {
  const { client, bucket } = place;
  const source = copySource(bucket, file.key);
  const pin = file.etag ? { CopySourceIfMatch: file.etag } : {};
  if (file.size <= S3_MAX_COPY) {
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: toKey,
        CopySource: source,
        MetadataDirective: "COPY",
        ...pin,
      }),
    );
    return;
  }
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: file.key }));
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: toKey, Metadata: head.Metadata }),
  );
  try {
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (let start = 0, n = 1; start < file.size; start += COPY_PART, n++) {
      const end = Math.min(file.size, start + COPY_PART) - 1;
      const out = await client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: toKey,
          UploadId,
          PartNumber: n,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
          ...pin,
        }),
      );
      parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag ?? "" });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: toKey,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: toKey, UploadId }))
      .catch(() => {});
    throw err;
  }
}
