import { lstat, rename as move } from "node:fs/promises";
import { FerryError, type RenameRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { errnoOf, fsError } from "../fs-errors.js";
import { assertWritable } from "./guard.js";

/** Both names are checked by the sandbox; a symlink is moved as a link, never followed. */
export async function rename(req: RenameRequest, io: SessionIO): Promise<void> {
  assertWritable(io);
  const { sandbox } = io.server;
  const from = sandbox.resolve(req.from);
  const to = sandbox.resolve(req.to);
  if (from.isRoot || to.isRoot) throw new FerryError("EBADPATH", "the root cannot be renamed or replaced");
  const src = await sandbox.inRealParent(from).catch((err) => {
    throw fsError(err, req.from);
  });
  const dst = await sandbox.inRealParent(to).catch((err) => {
    throw fsError(err, req.to);
  });
  await lstat(src).catch((err) => {
    throw fsError(err, req.from);
  });
  if (!req.overwrite) {
    const exists = await lstat(dst).then(
      () => true,
      (err) => (errnoOf(err) === "ENOENT" ? false : Promise.reject(fsError(err, req.to))),
    );
    if (exists) throw new FerryError("EEXIST", `already exists: ${JSON.stringify(req.to)}`);
  }
  try {
    await move(src, dst);
  } catch (err) {
    throw fsError(err, req.to);
  } finally {
    // Cached directory handles may point at what was moved or replaced.
    io.server.dirs.forget();
  }
  await io.send({ ok: true, id: req.id, type: "ok" });
}
