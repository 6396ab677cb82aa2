import { PutObjectCommand } from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import type { S3Place } from "./s3-place.js";
import { prefixExists, probeNames } from "./s3-stat.js";

const quote = (p: string) => JSON.stringify(p);

/** Writes the marker object that keeps the directory at `names` when nothing else is in it. */
export async function putDirMarker(place: S3Place, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await place.client.send(
    new PutObjectCommand({ Bucket: place.bucket, Key: place.keys.dir(names), Body: "", ContentLength: 0 }),
  );
}

/**
 * Checks that the directory at `names` exists, as a put, mkdir or rename needs its parent to:
 * a file there (or above) is ENOTDIR, nothing is ENOENT, unless `create`, which then writes one
 * marker for the deepest missing directory (the prefixes above it exist through it).
 */
export async function ensureDir(
  place: S3Place,
  names: readonly string[],
  create: boolean,
  clientPath: string,
): Promise<void> {
  if (names.length === 0 || place.knownDirs.has(place.keys.dir(names))) return;
  // The deepest of names and its ancestors that exists; usually names itself, one probe.
  let depth = names.length;
  for (; depth > 0; depth--) {
    const kind = await probeNames(place, names.slice(0, depth));
    if (kind === "file") throw new FerryError("ENOTDIR", `not a directory: ${quote(clientPath)}`);
    if (kind === "dir") break;
  }
  if (depth < names.length) {
    if (!create) throw new FerryError("ENOENT", `no such file or directory: ${quote(clientPath)}`);
    await putDirMarker(place, names);
  }
  place.knownDirs.add(place.keys.dir(names));
}

/**
 * After something under the directory at `names` was removed: if that was the last key with its
 * prefix, writes a marker so the directory stays, as it would on a disk.
 */
export async function keepDir(place: S3Place, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  if (!(await prefixExists(place, place.keys.dir(names)))) await putDirMarker(place, names);
}

/** mkdir: PROTOCOL.md §4 mkdir's answers, the directory kept as a marker object. */
export async function mkdirS3(
  place: S3Place,
  names: readonly string[],
  parents: boolean,
  clientPath: string,
): Promise<void> {
  const kind = await probeNames(place, names);
  if (kind) {
    if (kind === "dir" && parents) return;
    throw new FerryError("EEXIST", `already exists: ${quote(clientPath)}`);
  }
  await ensureDir(place, names.slice(0, -1), parents, clientPath);
  await putDirMarker(place, names);
}
