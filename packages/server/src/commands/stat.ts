import type { StatRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { entryOf } from "../storage/entry.js";
import { statName } from "../storage/tree.js";

/** stat reports the name itself: a symlink is a symlink (lstat), never its target. */
export async function stat(req: StatRequest, io: SessionIO): Promise<void> {
  const { sandbox, dirs, checksums } = io.volume;
  const r = sandbox.resolve(req.path);
  const { st, names } = await statName(dirs, r);
  const name = r.isRoot ? "/" : (r.names[r.names.length - 1] as string);
  const entry = entryOf(name, st, st.isFile() ? checksums.get(names.join("/"), st) : undefined);
  await io.send({ ok: true, id: req.id, type: "entry", entry });
}
