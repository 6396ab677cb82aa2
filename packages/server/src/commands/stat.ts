import type { StatRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";

/** stat reports the name itself: a symlink is a symlink (lstat), never its target. */
export async function stat(req: StatRequest, io: SessionIO): Promise<void> {
  // The reply names the alg only when the stat did, as a listing's does.
  const entry = await io.storage.stat(resolvePath(req.path), req.alg);
  await io.send({
    ok: true,
    id: req.id,
    type: "entry",
    entry,
    ...(req.alg === undefined ? {} : { alg: req.alg }),
  });
}
