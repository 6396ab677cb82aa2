import type { DeleteRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { removeName } from "../storage/tree.js";
import { assertWritable } from "./guard.js";

/** Removes the name itself: a symlink is unlinked, never followed; `rm -r` does not follow links either. */
export async function del(req: DeleteRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox, dirs } = io.server;
  const r = sandbox.resolve(req.path);
  let removed: "file" | "other" = "other";
  try {
    removed = await removeName(dirs, r, req.recursive === true);
  } finally {
    // Cached directory handles may point at what was removed (a directory, or a link to one).
    if (removed !== "file") dirs.forget();
  }
  await io.send({ ok: true, id: req.id, type: "ok" });
}
