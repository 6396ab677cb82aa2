import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import { keepDir } from "./s3-dirs.js";
import type { S3Place } from "./s3-place.js";
import { statNames } from "./s3-stat.js";

/** Keys per DeleteObjects request and per listing page of a recursive delete (S3's maximum). */
export const DELETE_BATCH = 1000;

/** Is there a key under `prefix` other than its own marker? */
export async function hasChildren(place: S3Place, prefix: string): Promise<boolean> {
  const out = await place.client.send(
    new ListObjectsV2Command({ Bucket: place.bucket, Prefix: prefix, MaxKeys: 2, Delimiter: "/" }),
  );
  const keys = [
    ...(out.Contents ?? []).map((o) => o.Key),
    ...(out.CommonPrefixes ?? []).map((p) => p.Prefix),
  ];
  return keys.some((k) => k !== undefined && k !== prefix);
}

/** Deletes every key under `prefix`, a page of up to 1,000 at a time with one DeleteObjects each. */
export async function deletePrefix(place: S3Place, prefix: string): Promise<number> {
  let removed = 0;
  for (;;) {
    // Always the first page: what was deleted is gone from the listing, so no token is needed.
    const out = await place.client.send(
      new ListObjectsV2Command({ Bucket: place.bucket, Prefix: prefix, MaxKeys: DELETE_BATCH }),
    );
    const objects = (out.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (objects.length === 0) return removed;
    const res = await place.client.send(
      new DeleteObjectsCommand({ Bucket: place.bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    const failed = res.Errors?.[0];
    if (failed)
      throw new FerryError("EINTERNAL", `the object store refused a delete (${failed.Code ?? "error"})`);
    removed += objects.length;
  }
}

/** delete: PROTOCOL.md §4 delete's answers; a directory's keys go in batches (`recursive`). */
export async function deleteS3(
  place: S3Place,
  names: readonly string[],
  options: { recursive: boolean; dirOnly: boolean },
  clientPath: string,
): Promise<void> {
  const quoted = JSON.stringify(clientPath);
  if (names.length === 0) throw new FerryError("EBADPATH", "the root cannot be deleted");
  const node = await statNames(place, names);
  if (!node) throw new FerryError("ENOENT", `no such file or directory: ${quoted}`);
  if (node.kind === "file") {
    if (options.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${quoted}`);
    await place.client.send(new DeleteObjectCommand({ Bucket: place.bucket, Key: node.key }));
  } else {
    if (!options.recursive && (await hasChildren(place, node.prefix)))
      throw new FerryError("ENOTEMPTY", `directory not empty: ${quoted}`);
    await deletePrefix(place, node.prefix);
  }
  await keepDir(place, names.slice(0, -1));
}
