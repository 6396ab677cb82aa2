import { constants } from "node:fs";
import { access, mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { FerryError } from "@ferry/protocol";
import { errnoOf } from "../../fs-errors.js";

/**
 * Makes the served root usable: created if missing, and then it must be a directory we can read
 * (and write, unless read-only). Returns its real path, which the sandbox compares against.
 */
export async function openRoot(root: string, readOnly: boolean): Promise<string> {
  const abs = path.resolve(root);
  try {
    await mkdir(abs, { recursive: true });
  } catch (err) {
    if (errnoOf(err) !== "EEXIST" && errnoOf(err) !== "ENOTDIR") {
      throw new FerryError("EACCES", `cannot create root ${abs}: ${(err as Error).message}`);
    }
  }
  const st = await stat(abs).catch(() => null);
  if (!st) throw new FerryError("ENOENT", `root ${abs} cannot be created or reached`);
  if (!st.isDirectory()) throw new FerryError("ENOTDIR", `root ${abs} is not a directory`);
  const mode = constants.R_OK | constants.X_OK | (readOnly ? 0 : constants.W_OK);
  await access(abs, mode).catch(() => {
    throw new FerryError("EACCES", `root ${abs} is not ${readOnly ? "readable" : "readable and writable"}`);
  });
  return realpath(abs);
}
