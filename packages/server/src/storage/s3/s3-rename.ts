import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import { copyObject } from "./s3-copy.js";
import { deletePrefix, hasChildren } from "./s3-delete.js";
import { ensureDir, keepDir } from "./s3-dirs.js";
import type { S3Place } from "./s3-place.js";
import { statNames } from "./s3-stat.js";

/** Objects copied at once while a directory is renamed (one listing page of up to 1,000 at a time). */
export const RENAME_CONCURRENCY = 8;
const PAGE = 1000;

export interface RenamePaths {
  from: readonly string[];
  to: readonly string[];
  fromClient: string;
  toClient: string;
  /** `from` ended in "/": it must be a directory. */
  fromDirOnly: boolean;
  overwrite: boolean;
}

/**
 * rename as copy + delete, with PROTOCOL.md §4 rename's answers. A file moves with one copy inside
 * the store and one delete. A directory moves object by object, a page of keys at a time (copies in
 * parallel, then one DeleteObjects for the page): that is not atomic, and another client may see it
 * half moved, or a failure may leave it so (running the rename again finishes it).
 */
export async function renameS3(place: S3Place, p: RenamePaths): Promise<void> {
  const q = JSON.stringify;
  if (p.from.length === 0 || p.to.length === 0)
    throw new FerryError("EBADPATH", "the root cannot be renamed");
  const src = await statNames(place, p.from);
  if (!src) throw new FerryError("ENOENT", `no such file or directory: ${q(p.fromClient)}`);
  if (src.kind === "file" && p.fromDirOnly)
    throw new FerryError("ENOTDIR", `not a directory: ${q(p.fromClient)}`);
  const same = p.from.length === p.to.length && p.from.every((n, i) => n === p.to[i]);
  if (same) return;
  if (src.kind === "dir" && p.to.length > p.from.length && p.from.every((n, i) => n === p.to[i]))
    throw new FerryError("EBADPATH", `cannot move a directory into itself: ${q(p.toClient)}`);
  await ensureDir(place, p.to.slice(0, -1), false, p.toClient);
  const dst = await statNames(place, p.to);
  const toKey = place.keys.file(p.to);
  if (src.kind === "file") {
    if (dst?.kind === "dir") throw new FerryError("EISDIR", `is a directory: ${q(p.toClient)}`);
    if (dst && !p.overwrite) throw new FerryError("EEXIST", `already exists: ${q(p.toClient)}`);
    await copyObject(place, src, toKey);
    await place.client.send(new DeleteObjectCommand({ Bucket: place.bucket, Key: src.key }));
  } else {
    if (dst && !p.overwrite) throw new FerryError("EEXIST", `already exists: ${q(p.toClient)}`);
    if (dst?.kind === "file") throw new FerryError("ENOTDIR", `not a directory: ${q(p.toClient)}`);
    if (dst?.kind === "dir") {
      if (await hasChildren(place, dst.prefix))
        throw new FerryError("ENOTEMPTY", `directory not empty: ${q(p.toClient)}`);
      await deletePrefix(place, dst.prefix);
    }
    await moveTree(place, src.prefix, place.keys.dir(p.to));
  }
  await keepDir(place, p.from.slice(0, -1));
}

/** Moves every key under `fromPrefix` to the same name under `toPrefix`, a page at a time. */
async function moveTree(place: S3Place, fromPrefix: string, toPrefix: string): Promise<void> {
  for (;;) {
    // Always the first page: the keys of the page before are gone from under fromPrefix.
    const out = await place.client.send(
      new ListObjectsV2Command({ Bucket: place.bucket, Prefix: fromPrefix, MaxKeys: PAGE }),
    );
    const objects = out.Contents ?? [];
    if (objects.length === 0) return;
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const o = objects[next++];
        if (!o?.Key) continue;
        const file = { kind: "file" as const, key: o.Key, size: o.Size ?? 0, mtime: 0, etag: o.ETag ?? "" };
        await copyObject(place, file, toPrefix + o.Key.slice(fromPrefix.length));
      }
    };
    await Promise.all(Array.from({ length: Math.min(RENAME_CONCURRENCY, objects.length) }, worker));
    const keys = objects.flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    const res = await place.client.send(
      new DeleteObjectsCommand({ Bucket: place.bucket, Delete: { Objects: keys, Quiet: true } }),
    );
    if (res.Errors?.length)
      throw new FerryError("EINTERNAL", "the object store refused a delete while renaming");
  }
}
