import type { DeleteRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";

/** Removes the name itself: a symlink is unlinked, never followed; `rm -r` does not follow links either. */
export async function del(req: DeleteRequest, io: SessionIO): Promise<void> {
  await io.storage.delete(resolvePath(req.path), req.recursive === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
