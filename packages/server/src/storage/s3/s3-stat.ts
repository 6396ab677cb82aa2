import { HeadObjectCommand, type HeadObjectCommandOutput, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { isS3NotFound } from "./s3-errors.js";
import type { S3Place } from "./s3-place.js";

/** User metadata keys (sent as `x-amz-meta-…`): the whole file's md5 and its mtime in ms. */
export const META_MD5 = "ferry-md5";
export const META_MTIME = "ferry-mtime";

const MD5_HEX = /^[0-9a-f]{32}$/;

export interface S3File {
  kind: "file";
  key: string;
  size: number;
  /** ms since the epoch: the put's mtime, or when the store wrote the object. */
  mtime: number;
  /** The whole file's md5, from the object's metadata (a multipart ETag is not one). */
  md5?: string;
  /** The object's version as the store names it: reads are pinned to it (If-Match). */
  etag: string;
}

export interface S3Dir {
  kind: "dir";
  /** The key prefix, ending in "/" (or the place's prefix for the root). */
  prefix: string;
}

export type S3Node = S3File | S3Dir;

/** The file facts of a HeadObject answer. */
export function fileOf(key: string, head: HeadObjectCommandOutput): S3File {
  const meta = head.Metadata ?? {};
  const md5 = meta[META_MD5];
  const mtime = Number(meta[META_MTIME]);
  return {
    kind: "file",
    key,
    size: head.ContentLength ?? 0,
    mtime: Number.isSafeInteger(mtime) && mtime >= 0 ? mtime : (head.LastModified?.getTime() ?? 0),
    ...(md5 && MD5_HEX.test(md5) ? { md5 } : {}),
    etag: head.ETag ?? "",
  };
}

/** HeadObject of `key`, or null when there is no such object. */
export async function headFile(place: S3Place, key: string): Promise<S3File | null> {
  try {
    const head = await place.client.send(new HeadObjectCommand({ Bucket: place.bucket, Key: key }));
    return fileOf(key, head);
  } catch (err) {
    if (isS3NotFound(err)) return null;
    throw err;
  }
}

/** True when any key starts with `prefix` (a directory with content, or its marker). */
export async function prefixExists(place: S3Place, prefix: string): Promise<boolean> {
  const out = await place.client.send(
    new ListObjectsV2Command({ Bucket: place.bucket, Prefix: prefix, MaxKeys: 1 }),
  );
  return (out.KeyCount ?? out.Contents?.length ?? 0) > 0 || (out.CommonPrefixes?.length ?? 0) > 0;
}

/**
 * What `names` is in the store: a file (an object of that key), a directory (a key prefix that
 * exists, marker or not), or null. HeadObject first, since most paths asked about are files; only
 * when there is no object is the prefix asked about. Where a file and a prefix of the same name
 * both exist (written behind ferryd's back) the file wins, as a put would see it.
 */
export async function statNames(place: S3Place, names: readonly string[]): Promise<S3Node | null> {
  const { keys } = place;
  if (names.length === 0) return { kind: "dir", prefix: keys.dir(names) };
  const file = await headFile(place, keys.file(names));
  if (file) return file;
  return (await prefixExists(place, keys.dir(names))) ? { kind: "dir", prefix: keys.dir(names) } : null;
}

/** Keys one probe lists: enough to get past the siblings that sort between `name` and `name/`. */
const PROBE_KEYS = 1000;

/**
 * Whether `names` is a file, a directory or nothing, with one ListObjectsV2 (no metadata): the keys
 * from `name` on, where `name` itself and the prefix `name/` both appear unless more than a page
 * of siblings (`name.bak`, `name-2`: bytes below "/") sort between them; then the prefix is asked
 * about on its own. For admission, where only existence matters.
 */
export async function probeNames(place: S3Place, names: readonly string[]): Promise<"file" | "dir" | null> {
  if (names.length === 0) return "dir";
  const key = place.keys.file(names);
  const out = await place.client.send(
    new ListObjectsV2Command({ Bucket: place.bucket, Prefix: key, Delimiter: "/", MaxKeys: PROBE_KEYS }),
  );
  if ((out.Contents ?? []).some((o) => o.Key === key)) return "file";
  if ((out.CommonPrefixes ?? []).some((p) => p.Prefix === `${key}/`)) return "dir";
  if (!out.IsTruncated) return null;
  return (await prefixExists(place, `${key}/`)) ? "dir" : null;
}
