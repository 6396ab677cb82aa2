import type { FileHandle } from "node:fs/promises";
import type { RunningHash } from "@ferry/protocol";
import { hashChunk } from "../hasher.js";

export const WRITE_CHUNK = 1024 * 1024;

/**
 * The most one write system call is handed. Linux sizes a file's page-cache folios by the length of
 * the write that creates them: 1 MiB writes get 1 MiB folios, taken from the large free blocks that
 * these VMs hand back to their host (free page reporting), so every page of a big upload faulted on
 * the host inside the kernel's copy (measured: 1.4-2.4 CPU s per GiB of system time for 1 MiB writes
 * against 0.5-0.75 for 256 KiB ones, same bytes, interleaved). Blocks stay 1 MiB for the hash.
 */
export const WRITE_SYSCALL_MAX = 256 * 1024;

/**
 * Gathers the small chunks a socket delivers into 1 MiB writes at increasing positions, with one
 * write in flight while the next buffer fills: the disk and the network work at the same time, and
 * memory stays at two buffers whatever the file size. The two are allocated once and swapped (a
 * fresh 1 MiB per block is garbage V8 frees only at a GC: tens of MB of RSS during a big upload).
 * Each block is also fed to `hash` (which copies it if it keeps it): one 1 MiB update instead of
 * sixteen 64 KiB ones matters when the hash runs on a worker thread.
 */
export class CoalescingWriter {
  private buf: Buffer;
  /** The buffer of the write in flight, free again once that write is done. */
  private spare: Buffer;
  private used = 0;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
    private readonly hash: RunningHash,
    /** Expected bytes still to come: a small upload gets small buffers. */
    expected = WRITE_CHUNK,
    /** Block size (see WriteBudget). */
    block = WRITE_CHUNK,
  ) {
    const size = Math.max(1, Math.min(block, expected));
    this.buf = Buffer.allocUnsafe(size);
    this.spare = Buffer.allocUnsafe(size);
  }

  /** Bytes handed over so far, written or not, counted from the start of the file. */
  get end(): number {
    return this.position + this.used;
  }

  async push(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.buf.length - this.used, chunk.length - off);
      chunk.copy(this.buf, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === this.buf.length) await this.spill();
    }
  }

  /** Writes everything handed over so far; resolves when it is all written. */
  async flush(): Promise<void> {
    if (this.used > 0) await this.spill();
    const last = this.inFlight;
    this.inFlight = null;
    if (last) await last;
  }

  private async spill(): Promise<void> {
    const full = this.buf;
    const data = full.subarray(0, this.used);
    await hashChunk(this.hash, data);
    if (this.inFlight) await this.inFlight;
    const at = this.position;
    this.position += this.used;
    // The previous write is done: its buffer takes the next block.
    this.buf = this.spare;
    this.spare = full;
    this.used = 0;
    const write = writeAll(this.fh, data, at);
    // Awaited by the next spill or flush; until then a failure must not count as unhandled.
    write.catch(() => {});
    this.inFlight = write;
  }
}

async function writeAll(fh: FileHandle, data: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const length = Math.min(WRITE_SYSCALL_MAX, data.length - done);
    const { bytesWritten } = await fh.write(data, done, length, at + done);
    done += bytesWritten;
  }
}
