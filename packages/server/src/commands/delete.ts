import type { DeleteRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

/** Removes the name itself: a symlink is unlinked, never followed; `rm -r` does not follow links either. */
export async function del(req: DeleteRequest, io: SessionIO): Promise<void> {
  const { volume } = io;
  await volume.remove(volume.sandbox.resolve(req.path), req.recursive === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
