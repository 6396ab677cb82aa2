import { lstat } from "node:fs/promises";
import type { StatRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { entryOf } from "../storage/entry.js";

/** stat reports the name itself: a symlink is a symlink (lstat), never its target. */
export async function stat(req: StatRequest, io: SessionIO): Promise<void> {
  const { sandbox, checksums } = io.server;
  const r = sandbox.resolve(req.path);
  let entry: ReturnType<typeof entryOf>;
  try {
    const abs = await sandbox.inRealParent(r);
    const st = await lstat(abs);
    const name = r.isRoot ? "/" : (r.names[r.names.length - 1] as string);
    entry = entryOf(name, st, st.isFile() ? checksums.get(abs, st) : undefined);
  } catch (err) {
    throw fsError(err, req.path);
  }
  await io.send({ ok: true, id: req.id, type: "entry", entry });
}
