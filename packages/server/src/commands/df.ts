import type { DfRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

/**
 * df: the store's free bytes (less what uploads in progress hold) and total, where the backend can
 * tell, and the user's quota with what is used of it where the user has one (counting the root on
 * first need, as a put would).
 */
export async function df(req: DfRequest, io: SessionIO): Promise<void> {
  const quota = io.access.quota;
  const { free, total, used } = await io.storage.space(quota);
  const reply: Record<string, unknown> = { ok: true, id: req.id, type: "df" };
  if (free !== undefined) reply.free = free;
  if (total !== undefined) reply.total = total;
  if (quota && used) {
    if (quota.bytes !== undefined) Object.assign(reply, { quotaBytes: quota.bytes, usedBytes: used.bytes });
    if (quota.files !== undefined) Object.assign(reply, { quotaFiles: quota.files, usedFiles: used.files });
  }
  await io.send(reply);
}
