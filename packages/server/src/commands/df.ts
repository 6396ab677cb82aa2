import type { DfRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

/**
 * df: the session's disk, free (less what uploads in progress hold) and total, and the user's quota
 * with what is used of it where the user has one (counting the root on first need, as a put would).
 */
export async function df(req: DfRequest, io: SessionIO): Promise<void> {
  const { free, total } = await io.volume.space.usage();
  const reply: Record<string, unknown> = { ok: true, id: req.id, type: "df", free, total };
  const quota = io.access.quota;
  if (quota && (quota.bytes !== undefined || quota.files !== undefined)) {
    const { used } = await io.volume.usage().current();
    if (quota.bytes !== undefined) Object.assign(reply, { quotaBytes: quota.bytes, usedBytes: used.bytes });
    if (quota.files !== undefined) Object.assign(reply, { quotaFiles: quota.files, usedFiles: used.files });
  }
  await io.send(reply);
}
