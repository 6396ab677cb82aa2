import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import { createDigest, createDigestNow, type HashAlgorithm } from "@ferry/protocol";
import type { Entry } from "../../lib/index.js";
import { CliError } from "../errors.js";
import type { ConflictPolicy } from "../prompts.js";
import type { Decision } from "./jobs.js";
import { localStatOrNull } from "./local.js";

/**
 * `ask`: a target that exists is asked about (overwrite, resume when it is shorter, skip).
 * `resume`: reget/reput: a shorter target is continued without a question.
 */
export type TargetMode = "ask" | "resume";

export const UP_TO_DATE = "up to date";

/** The hash in `alg` of a local file, streamed (64 KiB at a time, whatever its size). */
export async function localHash(file: string, alg: HashAlgorithm, signal?: AbortSignal): Promise<string> {
  const hash = createDigestNow(alg) ?? (await createDigest(alg));
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return hash.digest();
}

/** The entry fields decide reads: the known hash is in the session's alg (Session.stat/list). */
export type RemoteFacts = Pick<Entry, "size" | "md5" | "hash">;

/** The hash an entry carries in the session's `alg` (Session.stat/list put it in `md5` or `hash`). */
export function knownHash(remote: RemoteFacts, alg: HashAlgorithm): string | undefined {
  return alg === "md5" ? remote.md5 : remote.hash;
}

/**
 * The server's hash of the remote file, asked for (`sum`) only when its entry had none and the sizes
 * match: ferryd knows the hash of what it received or summed since it started, not of a file put
 * in its folder by other means or before a restart. Undefined when the server cannot tell.
 */
export type AskHash = () => Promise<string | undefined>;

/**
 * True when the two sides already hold the same file: same size, and the server's hash (in the
 * session's `alg`: the one it knew, else `ask`'s) equals the local file's. Without either it cannot
 * be told, and the answer is false.
 */
async function identical(
  local: string,
  localSize: number,
  remote: RemoteFacts,
  alg: HashAlgorithm,
  signal?: AbortSignal,
  ask?: AskHash,
) {
  if (remote.size !== localSize) return false;
  const known = knownHash(remote, alg) ?? (await ask?.());
  if (known === undefined) return false;
  return (await localHash(local, alg, signal)) === known;
}

function nothingToResume(shown: string, op: "get" | "put"): CliError {
  return new CliError(
    "EEXIST",
    `${shown} is not shorter than the source, so there is nothing to resume; use ${op} to replace it`,
  );
}

/**
 * A get onto `local`: go ahead (nothing there), skip it (identical: "up to date"), resume it (a
 * shorter file becomes NAME.part, which the library continues after checking its md5), or ask.
 */
export async function decideGet(
  conflicts: ConflictPolicy,
  mode: TargetMode,
  alg: HashAlgorithm,
  local: string,
  remote: RemoteFacts,
  shown: string,
  signal?: AbortSignal,
  ask?: AskHash,
): Promise<Decision> {
  const st = localStatOrNull(local);
  if (!st) return undefined;
  if (st.isDirectory()) throw new CliError("EISDIR", `${shown} is a directory`);
  if (await identical(local, st.size, remote, alg, signal, ask)) return { skip: UP_TO_DATE };
  const shorter = st.size < remote.size;
  if (mode === "resume" && !shorter) throw nothingToResume(shown, "get");
  const choice =
    mode === "resume" ? "resume" : await conflicts.decide(shown, shorter, "use --yes to overwrite");
  if (choice === "skip") return { skip: "exists" };
  if (choice === "resume") {
    await fs.rename(local, `${local}.part`);
    return undefined;
  }
  return { overwrite: true };
}

/** A put onto `remote` (null: nothing there): go, skip ("up to date"), continue a shorter one, or ask. */
export async function decidePut(
  conflicts: ConflictPolicy,
  mode: TargetMode,
  alg: HashAlgorithm,
  local: { path: string; size: number },
  remote: (RemoteFacts & Pick<Entry, "type">) | null | undefined,
  shown: string,
  signal?: AbortSignal,
  ask?: AskHash,
): Promise<Decision> {
  if (!remote) return undefined;
  if (remote.type === "dir") throw new CliError("EISDIR", `${shown} is a directory`);
  if (remote.type === "file" && (await identical(local.path, local.size, remote, alg, signal, ask))) {
    return { skip: UP_TO_DATE };
  }
  const shorter = remote.type === "file" && remote.size < local.size;
  if (mode === "resume" && !shorter) throw nothingToResume(shown, "put");
  const choice =
    mode === "resume" ? "resume" : await conflicts.decide(shown, shorter, "use --yes or rm it first");
  if (choice === "skip") return { skip: "exists" };
  return choice === "resume" ? { overwrite: true, resumeTarget: true } : { overwrite: true };
}
