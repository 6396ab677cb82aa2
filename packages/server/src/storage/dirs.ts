import { lstat, mkdir } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../fs-errors.js";
import type { Resolved, Sandbox } from "./sandbox.js";

/**
 * `mkdir -p` one name at a time, checking at each step that the directory reached (following any
 * symlink) is still inside the root, so a planted link cannot make us create directories outside.
 * Returns the real path of the directory. `isTarget`: the directory is what was asked for (mkdir), so a
 * file in its place is EEXIST rather than ENOTDIR.
 */
export async function ensureDir(sandbox: Sandbox, r: Resolved, isTarget = false): Promise<string> {
  let real = sandbox.root;
  for (let i = 1; i <= r.names.length; i++) {
    const step = sandbox.resolve(r.names.slice(0, i).join("/"));
    const here = await sandbox.inRealParent(step).catch((err) => {
      throw fsError(err, r.client);
    });
    try {
      await mkdir(here);
      real = here;
      continue;
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw fsError(err, r.client);
    }
    const st = await lstat(here);
    if (st.isSymbolicLink()) {
      real = await sandbox.realInside(here, r.client);
      const target = await lstat(real);
      if (!target.isDirectory())
        throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(step.client)}`);
    } else if (!st.isDirectory()) {
      throw new FerryError(
        isTarget && i === r.names.length ? "EEXIST" : "ENOTDIR",
        `not a directory: ${JSON.stringify(step.client)}`,
      );
    } else {
      real = here;
    }
  }
  return real;
}
