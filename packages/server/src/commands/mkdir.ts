import type { MkdirRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { makeDir } from "../storage/tree.js";
import { assertWritable } from "./guard.js";

export async function mkdir(req: MkdirRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox, dirs } = io.server;
  await makeDir(dirs, sandbox.resolve(req.path), req.parents === true);
  await io.send({ ok: true, id: req.id, type: "ok" });
}
