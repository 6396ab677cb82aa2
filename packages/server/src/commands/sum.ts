import type { SumReply, SumRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";
import type { ReserveMemory } from "../storage/storage.js";

/**
 * The md5 of a whole file, from what storage knows or read and hashed there, with the size and mtime
 * of the version hashed; ECHANGED rather than vouch for bytes read across a change. `reserve(bytes)`
 * is awaited before buffers are taken (the pipeline's budget); sums have no effects, so several may
 * be computed at once.
 */
export async function computeSum(
  req: SumRequest,
  io: SessionIO,
  reserve: ReserveMemory = async () => {},
): Promise<SumReply> {
  const { size, mtime, md5 } = await io.storage.sum(resolvePath(req.path), reserve);
  return { ok: true, id: req.id, type: "sum", size, mtime, md5, alg: "md5" };
}

/** `sum`: see PROTOCOL.md §4. */
export async function sum(req: SumRequest, io: SessionIO): Promise<void> {
  await io.send(await computeSum(req, io));
}
