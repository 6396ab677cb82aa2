import type { RenameRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

/** Both names are checked by the sandbox; a symlink is moved as a link, never followed. */
export async function rename(req: RenameRequest, io: SessionIO): Promise<void> {
  const { volume } = io;
  const from = volume.sandbox.resolve(req.from);
  const to = volume.sandbox.resolve(req.to);
  await volume.rename(from, to, req.overwrite === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
