import { mkdir as makeDir } from "node:fs/promises";
import { FerryError, type MkdirRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { ensureDir } from "../storage/dirs.js";
import { assertWritable } from "./guard.js";

export async function mkdir(req: MkdirRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox } = io.server;
  const r = sandbox.resolve(req.path);
  if (req.parents) {
    await ensureDir(sandbox, r, true);
  } else {
    if (r.isRoot) throw new FerryError("EEXIST", "the root exists");
    try {
      await makeDir(await sandbox.inRealParent(r));
    } catch (err) {
      throw fsError(err, req.path);
    }
  }
  await io.send({ ok: true, id: req.id, type: "ok" });
}
