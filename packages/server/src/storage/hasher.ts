import { createHash, type Hash } from "node:crypto";
import { OffThreadDigest } from "@ferry/protocol";

/** A running md5 that can be read midway (`peek`, for a resume prefix) and finished (`digest`). */
export interface RunningHash {
  update(chunk: Buffer): void | Promise<void>;
  peek(): Promise<string>;
  digest(): Promise<string>;
  close(): void;
}

/** Transfers at least this big may hash on a worker thread, so md5 and I/O use two cores. */
export const OFF_THREAD_MIN_BYTES = 32 * 1024 * 1024;

class InlineHash implements RunningHash {
  private readonly hash: Hash = createHash("md5");
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  async peek(): Promise<string> {
    return this.hash.copy().digest("hex");
  }
  async digest(): Promise<string> {
    return this.hash.digest("hex");
  }
  close(): void {}
}

class WorkerHash implements RunningHash {
  private readonly digester = new OffThreadDigest("md5");
  update(chunk: Buffer): void | Promise<void> {
    if (!this.digester.update(chunk)) return this.digester.whenWritable();
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

/** A running md5 for a transfer of `totalBytes`: on a worker thread when allowed and worth it. */
export function createRunningHash(totalBytes: number, thread: boolean): RunningHash {
  return thread && totalBytes >= OFF_THREAD_MIN_BYTES ? new WorkerHash() : new InlineHash();
}
