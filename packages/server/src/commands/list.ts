import { lstat } from "node:fs/promises";
import { type Entry, FerryError, type ListRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import type { DirRef } from "../storage/dir-handles.js";
import { entryOf } from "../storage/entry.js";
import { sortedListing } from "../storage/listing.js";

/**
 * Entry bytes per `entries` frame, leaving room for the reply's own fields (70 bytes at most), so no
 * header this server sends is over 32 KiB (PROTOCOL.md §1).
 */
const FRAME_BUDGET = 32 * 1024 - 128;

/**
 * Streams a directory as `entries` frames sorted by the UTF-8 bytes of the names (see
 * sortedListing: only the names are held, within the server's listing budget); entries are built and
 * sent a batch at a time, and no more are stat'ed while the client is not reading. A path that names
 * a file (links inside the root followed) lists that one entry.
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
  try {
    await sendEntries(req, io, held);
  } finally {
    held.release();
  }
}

async function sendEntries(req: ListRequest, io: SessionIO, held: DirRef): Promise<void> {
  const { checksums } = io.volume;
  const prefix = held.names.length > 0 ? `${held.names.join("/")}/` : "";
  const batches = sortedListing(held.path, {
    budget: io.server.listBudget,
    maxEntries: io.server.options.maxListEntries,
    lstat: (name) => lstat(held.at(name)),
  });
  let batch: Entry[] = [];
  let bytes = 0;
  try {
    for await (const stated of batches) {
      for (const { name, stats: st } of stated) {
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
  } catch (err) {
    throw fsError(err, req.path);
  }
  await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: batch });
}
