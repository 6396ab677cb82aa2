import type { RenameRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";

/** Both names are checked before storage sees them; a symlink is moved as a link, never followed. */
export async function rename(req: RenameRequest, io: SessionIO): Promise<void> {
  const from = resolvePath(req.from);
  const to = resolvePath(req.to);
  await io.storage.rename(from, to, req.overwrite === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
