import type { MkdirRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";

export async function mkdir(req: MkdirRequest, io: SessionIO): Promise<void> {
  await io.storage.mkdir(resolvePath(req.path), req.parents === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
