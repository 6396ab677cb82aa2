import type { Entry } from "@ferry/protocol";
import type { FerrySession } from "../../lib/index.js";
import { codeOf } from "../errors.js";
import type { GlobEntry } from "../glob.js";

/** stat, with a missing path as null instead of ENOENT. */
export async function statOrNull(session: FerrySession, path: string): Promise<Entry | null> {
  try {
    return await session.stat(path);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return null;
    throw err;
  }
}

/** list, with a missing directory as empty. */
export async function listOrEmpty(session: FerrySession, path: string): Promise<Entry[]> {
  try {
    return await session.list(path);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return [];
    throw err;
  }
}

export function remoteLister(session: FerrySession): (dir: string) => Promise<GlobEntry[]> {
  return (dir) => session.list(dir);
}
