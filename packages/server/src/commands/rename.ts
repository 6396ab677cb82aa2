import type { RenameRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { renameName } from "../storage/tree.js";
import { assertWritable } from "./guard.js";

/** Both names are checked by the sandbox; a symlink is moved as a link, never followed. */
export async function rename(req: RenameRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox, dirs } = io.server;
  const from = sandbox.resolve(req.from);
  const to = sandbox.resolve(req.to);
  try {
    await renameName(dirs, from, to, req.overwrite === true);
  } finally {
    // Cached directory handles may point at what was moved or replaced.
    dirs.forget();
  }
  await io.send({ ok: true, id: req.id, type: "ok" });
}
