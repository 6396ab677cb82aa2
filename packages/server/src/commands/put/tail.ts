import { algOf, hashFields, type PutRequest } from "@ferry/protocol";
import type { SessionIO } from "../../context.js";
import type { Upload } from "../../storage/storage.js";
import { checksumMismatch } from "./frames.js";

/**
 * Runs a commit when its turn comes. The pipeline hands out turns in request order, so the commits
 * of one session become visible in that order; a put alone commits at once ({@link NOW}).
 */
export type CommitTurn = (commit: () => Promise<void>) => Promise<void>;

export const NOW: CommitTurn = (commit) => commit();

/**
 * The one tail of every put, whichever road brought its bytes (the pipelined small put, the
 * streamed or handshake put): the md5 of what arrived against the client's (ECHECKSUM, and nothing
 * becomes visible), then staging (durable, invisible; may overlap other puts' staging), then the
 * atomic commit in its turn. Resolves with the md5 once the file is under its name; then
 * {@link answerPut}.
 */
export async function verifyAndCommit(upload: Upload, expected: string, turn: CommitTurn): Promise<string> {
  const actual = await upload.digest();
  if (actual !== expected) throw checksumMismatch(expected, actual);
  await upload.stage();
  await turn(() => upload.commit());
  return actual;
}

/** After the commit: once it is durable, `done` (PROTOCOL.md §4 put: `done` means durable). */
export async function answerPut(req: PutRequest, upload: Upload, hex: string, io: SessionIO): Promise<void> {
  await upload.sync();
  const alg = algOf(req);
  await io.send({ ok: true, id: req.id, type: "done", size: req.size, alg, ...hashFields(alg, hex) });
}
