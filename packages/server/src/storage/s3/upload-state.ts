import { createHash } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { isS3NotFound } from "./s3-errors.js";
import type { S3Place } from "./s3-place.js";

/** Largest state object read back: 10,000 parts of ~60 bytes each, and some room. */
const MAX_STATE_BYTES = 1024 * 1024;

/**
 * What any ferryd on the bucket needs to take over an interrupted multipart upload: which upload,
 * its parts so far, and the md5 *state* (not digest) after them. node:crypto cannot export a hash's
 * internal state, so uploads hash with hash-wasm, whose `save()` gives the 4 md5 words, the byte
 * count and the pending block; a part always ends on a 64-byte boundary, so that is all there is.
 * The store keeps no readable copy of an unfinished upload's parts, so there is no re-reading them:
 * this state is the only road to the prefix's md5, and the final whole-file check still guards it.
 */
export interface UploadState {
  v: 1;
  /** The served path (normalized) and declared size: what a later put must match to claim it. */
  path: string;
  size: number;
  /** The md5 the first put declared, or null (it came as a trailer). */
  md5: string | null;
  /** The metadata the multipart upload was created with (fixed by S3 at creation). */
  created: { md5: string | null; mtime: number | null };
  key: string;
  uploadId: string;
  partSize: number;
  /** Parts 1..n, each exactly partSize bytes, uploaded and acknowledged. */
  parts: { n: number; etag: string }[];
  /** hash-wasm md5 state after the first parts.length × partSize bytes, base64. */
  hash: string;
  /** Which put last claimed this upload; an older claimant stops writing state once it sees another. */
  owner: string;
  updated: number;
}

/** The state object's id for a path and size: one partial per path and size (PROTOCOL.md §6). */
export function uploadId(path: string, size: number): string {
  return createHash("sha256").update(`${path}\0${size}`).digest("hex").slice(0, 40);
}

export async function readUploadState(place: S3Place, id: string): Promise<UploadState | null> {
  try {
    const out = await place.client.send(
      new GetObjectCommand({ Bucket: place.bucket, Key: place.keys.uploadState(id) }),
    );
    if ((out.ContentLength ?? 0) > MAX_STATE_BYTES) return null;
    const text = await out.Body?.transformToString("utf8");
    const state = JSON.parse(text ?? "null") as UploadState | null;
    return state && state.v === 1 && Array.isArray(state.parts) ? state : null;
  } catch (err) {
    if (isS3NotFound(err) || err instanceof SyntaxError) return null;
    throw err;
  }
}

export async function writeUploadState(place: S3Place, id: string, state: UploadState): Promise<void> {
  await place.client.send(
    new PutObjectCommand({
      Bucket: place.bucket,
      Key: place.keys.uploadState(id),
      Body: JSON.stringify(state),
      ContentType: "application/json",
    }),
  );
}

export async function deleteUploadState(place: S3Place, id: string): Promise<void> {
  await place.client.send(new DeleteObjectCommand({ Bucket: place.bucket, Key: place.keys.uploadState(id) }));
}
