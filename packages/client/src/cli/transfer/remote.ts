import type { Entry } from "@ferry/protocol";
import type { FerrySession } from "../../lib/index.js";
import { codeOf } from "../errors.js";
import type { GlobEntry } from "../glob.js";
import type { AskHash } from "./decide.js";
import { TRANSFER_WINDOW } from "./window.js";

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

/** The server's hash of `path` by `sum`, or undefined when it cannot tell (gone, not a file, refused). */
export function askHash(session: FerrySession, path: string): AskHash {
  return () =>
    session.sum(path).then(
      (r) => r.hash,
      () => undefined,
    );
}

/**
 * askHash for a batch: the sums of `likely` (files whose sizes match and whose hash the server did
 * not say) go out now, pipelined, rather than one round trip per file while the batch is decided
 * one file at a time; up to TRANSFER_WINDOW of them, the rest are asked when needed.
 */
export function askHashesAhead(session: FerrySession, likely: readonly string[]): (path: string) => AskHash {
  const asked = new Map<string, Promise<string | undefined>>();
  for (const p of likely.slice(0, TRANSFER_WINDOW)) asked.set(p, askHash(session, p)());
  return (p) => {
    const answer = asked.get(p);
    return answer ? () => answer : askHash(session, p);
  };
}
