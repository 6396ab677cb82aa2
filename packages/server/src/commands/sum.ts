import { algOf, hashFields, type SumReply, type SumRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { resolvePath } from "../storage/path.js";
import type { ReserveMemory } from "../storage/storage.js";

/**
 * The hash (in the request's alg) of a whole file, from what storage knows or read and hashed there, with the size and mtime
 * of the version hashed; ECHANGED rather than vouch for bytes read across a change. `reserve(bytes)`
 * is awaited before buffers are taken (the pipeline's budget); sums have no effects, so several may
 * be computed at once.
 */
export async function computeSum(
  req: SumRequest,
  io: SessionIO,
  reserve: ReserveMemory = async () => {},
): Promise<SumReply> {
  const { size, mtime, alg, hash } = await io.storage.sum(resolvePath(req.path), algOf(req), reserve);
  return { ok: true, id: req.id, type: "sum", size, mtime, alg, ...hashFields(alg, hash) };
}

/** `sum`: see PROTOCOL.md §4. */
export async function sum(req: SumRequest, io: SessionIO): Promise<void> {
  await io.send(await computeSum(req, io));
}
