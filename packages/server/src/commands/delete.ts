import { lstat, rm, rmdir, unlink } from "node:fs/promises";
import { type DeleteRequest, FerryError } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { assertWritable } from "./guard.js";

/** Removes the name itself: a symlink is unlinked, never followed; `rm -r` does not follow links either. */
export async function del(req: DeleteRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox } = io.server;
  const r = sandbox.resolve(req.path);
  if (r.isRoot) throw new FerryError("EBADPATH", "the root cannot be deleted");
  let file = false;
  try {
    const abs = await sandbox.inRealParent(r);
    const st = await lstat(abs);
    file = st.isFile();
    if (!st.isDirectory()) await unlink(abs);
    else if (req.recursive) await rm(abs, { recursive: true });
    else await rmdir(abs);
  } catch (err) {
    throw fsError(err, req.path);
  } finally {
    // Cached directory handles may point at what was removed (a directory, or a link to one).
    if (!file) io.server.dirs.forget();
  }
  await io.send({ ok: true, id: req.id, type: "ok" });
}
