import { lstat, stat as statFollow } from "node:fs/promises";
import path from "node:path";
import type { Entry, ListRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { entryOf } from "../storage/entry.js";
import { sortedListing } from "../storage/listing.js";

/** Header bytes per `entries` frame: well under any client's 64 KiB limit. */
const FRAME_BUDGET = 32 * 1024;

/**
 * Streams a directory as `entries` frames sorted by the UTF-8 bytes of the names (see
 * sortedListing: only the names are held, within the server's listing budget); entries are built and
 * sent a batch at a time, and no more are stat'ed while the client is not reading.
 */
export async function list(req: ListRequest, io: SessionIO): Promise<void> {
  const { sandbox, checksums } = io.server;
  const r = sandbox.resolve(req.path);
  let dir: string;
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
  } catch (err) {
    throw fsError(err, req.path);
  }
  const batches = sortedListing(dir, {
    isRoot: dir === sandbox.root,
    budget: io.server.listBudget,
    maxEntries: io.server.options.maxListEntries,
    lstat: (name) => lstat(path.join(dir, name)),
  });
  let batch: Entry[] = [];
  let bytes = 0;
  try {
    for await (const stated of batches) {
      for (const { name, stats: st } of stated) {
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
  } catch (err) {
    throw fsError(err, req.path);
  }
  await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: batch });
}
