import type { Entry, ListRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";

/**
 * Entry bytes per `entries` frame, leaving room for the reply's own fields (70 bytes at most), so no
 * header this server sends is over 32 KiB (PROTOCOL.md §1).
 */
const FRAME_BUDGET = 32 * 1024 - 128;

/**
 * Streams a directory as `entries` frames in the order storage gives them (sorted by the UTF-8
 * bytes of the names); a batch is asked for only once the previous frame is sent, so nothing more is
 * read while the client is not reading. A path that names a file lists that one entry.
 */
export async function list(req: ListRequest, io: SessionIO): Promise<void> {
  let batch: Entry[] = [];
  let bytes = 0;
  // The reply names the alg only when the list did: a listing without it is md5, as it always was.
  const alg = req.alg === undefined ? {} : { alg: req.alg };
  for await (const entries of io.storage.list(resolvePath(req.path), req.alg)) {
    for (const entry of entries) {
      const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
      if (bytes + size > FRAME_BUDGET && batch.length > 0) {
        await io.send({ ok: true, id: req.id, type: "entries", more: true, entries: batch, ...alg });
        batch = [];
        bytes = 0;
      }
      batch.push(entry);
      bytes += size;
    }
  }
  await io.send({ ok: true, id: req.id, type: "entries", more: false, entries: batch, ...alg });
}
