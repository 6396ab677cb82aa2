import { createDigest, createDigestNow, type Digest } from "../hash.js";
import type { HashAlgorithm } from "../messages.js";
import { OffThreadDigest } from "./off-thread-digest.js";

/**
 * The hash of a transfer, fed chunk by chunk while the bytes move. Two engines behind one shape:
 * inline (cheap to start, right for small files) and on a worker thread (for big files, so hashing
 * runs on another core while this thread moves bytes between disk and socket).
 */
export interface RunningHash {
  readonly alg: HashAlgorithm;
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

/**
 * A running hash in `alg` for a transfer of `size` bytes: on a worker thread when `offThreadFrom` is
 * a number and the transfer is at least that big (below it the worker's start-up costs more than it
 * saves), inline otherwise. Each side picks its own threshold, or null to always hash inline.
 * xxh128 always runs inline: at ~2.4 GB/s it is faster than the hand-over to a worker would be.
 */
export function createRunningHash(
  size: number,
  offThreadFrom: number | null,
  alg: HashAlgorithm = "md5",
): RunningHash {
  const threaded = alg !== "xxh128" && offThreadFrom !== null && size >= offThreadFrom;
  return threaded ? new WorkerHash(alg) : new InlineHash(alg);
}

class InlineHash implements RunningHash {
  private hash: Digest | null;
  /** Set while an xxh128 hasher is being made (none was idle); see `update`. */
  private coming: Promise<void> | null = null;
  /** Bytes given before the hasher came: at most one chunk each time `update` said false. */
  private early: Uint8Array[] = [];

  /** Why no hasher could be made (say, hash-wasm missing): thrown by whenWritable, peek and digest. */
  private failure: unknown = null;

  constructor(readonly alg: HashAlgorithm) {
    this.hash = createDigestNow(alg);
    if (!this.hash) {
      // Handled here, at once: a rejection nobody awaited yet would bring the whole process down.
      this.coming = createDigest(alg).then(
        (digest) => {
          this.hash = digest;
          this.coming = null;
          for (const chunk of this.early) digest.update(chunk);
          this.early = [];
        },
        (err: unknown) => {
          this.failure = err;
          this.coming = null;
          this.early = [];
        },
      );
    }
  }

  update(chunk: Uint8Array): boolean {
    if (this.hash) {
      this.hash.update(chunk);
      return true;
    }
    if (this.failure !== null) return false; // whenWritable tells why
    // The caller may reuse its chunk, so it is copied; false makes it wait before the next one.
    this.early.push(Uint8Array.prototype.slice.call(chunk));
    return false;
  }

  async whenWritable(): Promise<void> {
    await this.coming;
    if (this.failure !== null) throw this.failure;
  }

  async peek(): Promise<string> {
    return (await this.ready()).peek();
  }

  async digest(): Promise<string> {
    return (await this.ready()).digest();
  }

  close(): void {}

  private async ready(): Promise<Digest> {
    await this.coming;
    if (this.failure !== null) throw this.failure;
    if (!this.hash) throw new Error("no digest");
    return this.hash;
  }
}

/** Bytes gathered before one hand-over to the worker: socket reads are 64 KiB, messages cost per call. */
const WORKER_BATCH = 1024 * 1024;

/**
 * Bytes handed to the worker and not yet hashed before `update` says "wait". Two batches keep the
 * worker busy while the next one fills; more would only hold memory (each in-flight MiB is RSS).
 */
const WORKER_HIGH_WATER = 2 * WORKER_BATCH;

class WorkerHash implements RunningHash {
  private readonly digester: OffThreadDigest;
  private batch: Buffer;
  private filled = 0;

  constructor(readonly alg: HashAlgorithm) {
    this.digester = new OffThreadDigest(alg, WORKER_HIGH_WATER);
    this.batch = this.digester.takeBuffer(WORKER_BATCH);
  }

  /** Copies into a batch (the caller may keep writing its chunk elsewhere) and moves full batches. */
  update(chunk: Uint8Array): boolean {
    let writable = true;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(WORKER_BATCH - this.filled, chunk.byteLength - offset);
      this.batch.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === WORKER_BATCH) writable = this.flush();
    }
    return writable;
  }

  whenWritable(): Promise<void> {
    return this.digester.whenWritable();
  }

  peek(): Promise<string> {
    this.flush();
    return this.digester.peek();
  }

  digest(): Promise<string> {
    this.flush();
    return this.digester.digest();
  }

  close(): void {
    this.digester.close();
  }

  private flush(): boolean {
    if (this.filled === 0) return true;
    // A batch owns its whole ArrayBuffer, so it is transferred to the worker without another copy.
    const full = this.filled === WORKER_BATCH ? this.batch : Buffer.from(this.batch.subarray(0, this.filled));
    const writable = this.digester.update(full, full === this.batch);
    if (full === this.batch) this.batch = this.digester.takeBuffer(WORKER_BATCH);
    this.filled = 0;
    return writable;
  }
}
