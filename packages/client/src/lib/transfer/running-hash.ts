import type { Hash } from "node:crypto";
import { createDigest, OffThreadDigest } from "@ferry/protocol";

/**
 * The md5 of a transfer, fed chunk by chunk while the bytes move. Two engines behind one shape:
 * inline (cheap to start, right for small files) and on a worker thread (for big files, so hashing
 * runs on another core while this thread moves bytes between disk and socket).
 */
export interface RunningHash {
  /** Adds bytes; the chunk may be reused by the caller afterwards. False: await `whenWritable()`. */
  update(chunk: Uint8Array): boolean;
  whenWritable(): Promise<void>;
  /** The hash so far, without ending it (a resume prefix). */
  peek(): Promise<string>;
  /** The final hash; the hash is released. */
  digest(): Promise<string>;
  /** Releases resources without a result (on failure). */
  close(): void;
}

/** Files at least this big hash on a worker thread; below it the worker's start-up costs more than it saves. */
export const OFF_THREAD_HASH_MIN = 16 * 1024 * 1024;

export function createRunningHash(size: number): RunningHash {
  return size >= OFF_THREAD_HASH_MIN ? new WorkerHash() : new InlineHash();
}

export class InlineHash implements RunningHash {
  private readonly hash: Hash = createDigest("md5");

  update(chunk: Uint8Array): boolean {
    this.hash.update(chunk);
    return true;
  }

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  peek(): Promise<string> {
    return Promise.resolve(this.hash.copy().digest("hex"));
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest("hex"));
  }

  /** Synchronous digest for callers that hold the whole content. */
  digestNow(): string {
    return this.hash.digest("hex");
  }

  close(): void {}
}

class WorkerHash implements RunningHash {
  private readonly digester = new OffThreadDigest("md5");

  update(chunk: Uint8Array): boolean {
    return this.digester.update(chunk, false);
  }

  whenWritable(): Promise<void> {
    return this.digester.whenWritable();
  }

  peek(): Promise<string> {
    return this.digester.peek();
  }

  digest(): Promise<string> {
    return this.digester.digest();
  }

  close(): void {
    this.digester.close();
  }
}
