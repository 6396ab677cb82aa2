import type { Stats } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import { type Entry, FerryError, type ListRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { errnoOf, fsError } from "../fs-errors.js";
import type { DirRef } from "../storage/dir-handles.js";
import { entryOf } from "../storage/entry.js";
import { STAGING_DIR } from "../storage/sandbox.js";

/** Header bytes per `entries` frame: well under any client's 64 KiB limit. */
const FRAME_BUDGET = 32 * 1024;
/** lstat calls in flight at once. */
const STAT_BATCH = 128;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Streams a directory as `entries` frames sorted by the UTF-8 bytes of the names. Only the names are
 * held (100,000 names is a few MB); entries are built and sent a batch at a time, with backpressure.
 */
export async function list(req: ListRequest, io: SessionIO): Promise<void> {
  const { sandbox, dirs, checksums } = io.volume;
  const r = sandbox.resolve(req.path);
  const found = await dirs.follow(r);
  let held: DirRef;
  try {
    if (!found.st.isDirectory()) {
      if (r.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(req.path)}`);
      const name = r.names[r.names.length - 1] as string;
      const key = found.name === null ? "" : found.names.join("/");
      const entry = entryOf(name, found.st, found.st.isFile() ? checksums.get(key, found.st) : undefined);
      await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: [entry] });
      return;
    }
    held = found.name === null ? found.dir : await dirs.acquire(found.names, req.path);
  } finally {
    if (found.name !== null) found.dir.release();
  }
  const prefix = held.names.length > 0 ? `${held.names.join("/")}/` : "";
  const dir = held.path;
  try {
    await sendSorted(req, io, held, prefix, dir);
  } finally {
    held.release();
  }
}

async function sendSorted(req: ListRequest, io: SessionIO, held: DirRef, prefix: string, dir: string) {
  const { checksums } = io.volume;
  let names: Buffer[];
  try {
    names = await readNames(dir);
  } catch (err) {
    throw fsError(err, req.path);
  }
  names.sort(Buffer.compare);

  let batch: Entry[] = [];
  let bytes = 0;
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const slice = names.slice(i, i + STAT_BATCH).map((n) => utf8.decode(n));
    const stats = await Promise.all(slice.map((name) => lstat(held.at(name)).catch(vanished)));
    for (let j = 0; j < slice.length; j++) {
      const st = stats[j];
      const name = slice[j] as string;
      if (!st) continue;
      const md5 = st.isFile() ? checksums.get(prefix + name, st) : undefined;
      const entry = entryOf(name, st, md5);
      const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (bytes + size > FRAME_BUDGET && batch.length > 0) {
        await io.send({ ok: true, id: req.id, type: "entries", more: true, entries: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(entry);
      bytes += size;
    }
  }
  await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: batch });
}

/** The names of `dir` as raw bytes; names that are not UTF-8 cannot be named by a client and are skipped. */
async function readNames(dir: string): Promise<Buffer[]> {
  const names: Buffer[] = [];
  // Node supports "buffer" here (names as raw bytes) but @types/node 20 does not say so.
  const handle = await opendir(dir, { encoding: "buffer" as BufferEncoding, bufferSize: 256 });
  for await (const dirent of handle) {
    const raw = dirent.name as unknown as Buffer;
    // Only the root's is ours, but a user's root may be a folder of another's (see STAGING_DIR).
    if (raw.toString() === STAGING_DIR) continue;
    if (!isUtf8(raw)) continue;
    names.push(raw);
  }
  return names;
}

function isUtf8(raw: Buffer): boolean {
  try {
    utf8.decode(raw);
    return true;
  } catch {
    return false;
  }
}

/** An entry deleted between readdir and lstat is simply not listed. */
function vanished(err: unknown): Stats | null {
  if (errnoOf(err) === "ENOENT") return null;
  throw err;
}
