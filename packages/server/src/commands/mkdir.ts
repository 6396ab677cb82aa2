import type { MkdirRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { makeDir } from "../storage/tree.js";

export async function mkdir(req: MkdirRequest, io: SessionIO): Promise<void> {
  const { sandbox, dirs } = io.volume;
  await makeDir(dirs, sandbox.resolve(req.path), req.parents === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
