import { readFileSync } from "node:fs";
import { open, unlink } from "node:fs/promises";

/** A field of /proc/PID/status in kB (VmHWM = peak resident set, VmRSS = current), or null if unreadable. */
export function statusKb(pid: number | "self", field: "VmHWM" | "VmRSS"): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Megabytes (10^6 B) from kB (1024 B), the unit the targets use. */
export function kbToMb(kb: number | null): number | null {
  return kb === null ? null : (kb * 1024) / 1e6;
}

const PRETOUCH_BYTES = 1.25 * 1024 ** 3;
const PRETOUCH_CHUNK = 8 * 1024 * 1024;

/**
 * These VMs hand freed guest memory back to the host, so the first touch of recently freed memory
 * costs a host page fault per page (1.5–2 s per GiB) and would land in whichever run comes next.
 * Writing and deleting ~1.25 GiB in /dev/shm faults that memory back in before a timed run.
 */
export async function pretouchMemory(): Promise<void> {
  const path = `/dev/shm/ferry-bench-pretouch-${process.pid}`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "w");
  } catch {
    return; // no /dev/shm: nothing to prepare on this machine
  }
  const chunk = Buffer.alloc(PRETOUCH_CHUNK, 0xa5);
  try {
    for (let written = 0; written < PRETOUCH_BYTES; written += chunk.length) await handle.write(chunk);
  } finally {
    await handle.close();
    await unlink(path);
  }
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/PID/stat. */
export function cpuSeconds(pid: number | "self", which: "all" | "system" = "all"): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = which === "all" ? Number(fields[11]) : 0; // utime and stime are fields 14 and 15 of stat
    const ticks = user + Number(fields[12]);
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;
