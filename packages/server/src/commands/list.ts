import type { Stats } from "node:fs";
import { lstat, opendir, stat as statFollow } from "node:fs/promises";
import path from "node:path";
import type { Entry, ListRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { errnoOf, fsError } from "../fs-errors.js";
import { entryOf } from "../storage/entry.js";
import { STAGING_DIR } from "../storage/sandbox.js";

/**
 * Entry bytes per `entries` frame, leaving room for the reply's own fields (70 bytes at most), so no
 * header this server sends is over 32 KiB (PROTOCOL.md §1).
 */
const FRAME_BUDGET = 32 * 1024 - 128;
/** lstat calls in flight at once. */
const STAT_BATCH = 128;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Streams a directory as `entries` frames sorted by the UTF-8 bytes of the names. Only the names are
 * held (100,000 names is a few MB); entries are built and sent a batch at a time, with backpressure.
 */
export async function list(req: ListRequest, io: SessionIO): Promise<void> {
  const { sandbox, checksums } = io.server;
  const r = sandbox.resolve(req.path);
  let dir: string;
  let names: Buffer[];
  try {
    dir = await sandbox.realInside(r.abs, req.path);
    const st = await statFollow(dir);
    if (!st.isDirectory()) {
      const name = r.isRoot ? "/" : (r.names[r.names.length - 1] as string);
      const self = await lstat(await sandbox.inRealParent(r));
      const entry = entryOf(name, self, self.isFile() ? checksums.get(dir, st) : undefined);
      await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: [entry] });
      return;
    }
    names = await readNames(dir, dir === sandbox.root);
  } catch (err) {
    throw fsError(err, req.path);
  }
  names.sort(Buffer.compare);

  let batch: Entry[] = [];
  let bytes = 0;
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const slice = names.slice(i, i + STAT_BATCH).map((n) => utf8.decode(n));
    const stats = await Promise.all(slice.map((name) => lstat(path.join(dir, name)).catch(vanished)));
    for (let j = 0; j < slice.length; j++) {
      const st = stats[j];
      const name = slice[j] as string;
      if (!st) continue;
      const md5 = st.isFile() ? checksums.get(path.join(dir, name), st) : undefined;
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
async function readNames(dir: string, isRoot: boolean): Promise<Buffer[]> {
  const names: Buffer[] = [];
  // Node supports "buffer" here (names as raw bytes) but @types/node 20 does not say so.
  const handle = await opendir(dir, { encoding: "buffer" as BufferEncoding, bufferSize: 256 });
  for await (const dirent of handle) {
    const raw = dirent.name as unknown as Buffer;
    if (isRoot && raw.toString() === STAGING_DIR) continue;
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
