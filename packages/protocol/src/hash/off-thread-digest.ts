import { Worker } from "node:worker_threads";
import type { HashAlgorithm } from "../messages.js";

/**
 * A running digest computed on a worker thread, so that hashing a big transfer runs on the second
 * core while the main thread moves bytes between socket and disk. md5 is the bottleneck of a verified
 * transfer here (~440 MB/s in Node against ~1,900 MB/s for a loopback copy), so taking it off the
 * I/O thread is what lets a transfer approach the speed of the hash alone.
 *
 * Chunks are handed over in order; `update` copies or transfers them, and `whenWritable()` is the
 * backpressure: await it when `update` returns false so a slow hash cannot queue up unbounded memory.
 *
 * The worker hands every buffer back once hashed, and the next copy reuses it (`takeBuffer`). Without
 * that, each 1 MiB handed over became garbage that V8 freed only at a collection, and a 1 GiB
 * transfer peaked ~100 MB higher than a 64 MiB one.
 */
export class OffThreadDigest {
  private readonly worker: Worker;
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private pending = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();
  private nextRequest = 1;
  private failure: Error | null = null;
  private closed = false;
  /** Hashed buffers handed back by the worker, by byte length, ready for the next copy. */
  private readonly spare = new Map<number, ArrayBuffer[]>();

  constructor(
    alg: HashAlgorithm = "md5",
    private readonly highWaterMark = 4 * 1024 * 1024,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { alg } });
    this.worker.unref();
    this.worker.on("message", (msg: WorkerReply) => this.onMessage(msg));
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", () => this.fail(new Error("digest worker exited")));
  }

  /**
   * Adds bytes. With `transfer`, a Buffer that owns its whole ArrayBuffer is moved to the worker
   * without a copy and must not be used afterwards; anything else is copied. Returns false when the
   * worker is behind by more than the high-water mark.
   */
  update(chunk: Uint8Array, transfer = false): boolean {
    if (this.failure) throw this.failure;
    if (chunk.byteLength === 0) return this.inFlight < this.highWaterMark;
    const owns =
      transfer &&
      chunk.byteOffset === 0 &&
      chunk.byteLength === chunk.buffer.byteLength &&
      chunk.buffer instanceof ArrayBuffer;
    const data = owns ? (chunk.buffer as ArrayBuffer) : this.copyOf(chunk);
    this.inFlight += chunk.byteLength;
    this.worker.postMessage({ op: "update", data }, [data]);
    return this.inFlight < this.highWaterMark;
  }

  /**
   * A buffer of exactly `byteLength` bytes to fill and then pass to `update(…, true)`: a recycled one
   * when the worker has handed one back, so steady-state hashing allocates nothing.
   */
  takeBuffer(byteLength: number): Buffer {
    const recycled = this.spare.get(byteLength)?.pop();
    return recycled ? Buffer.from(recycled) : Buffer.allocUnsafeSlow(byteLength);
  }

  /** Resolves once the worker's backlog is under the high-water mark. */
  whenWritable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The digest of everything so far, without ending the digest (a resume prefix). */
  peek(): Promise<string> {
    return this.request("peek");
  }

  /** The final digest; the worker is released. */
  async digest(): Promise<string> {
    try {
      return await this.request("digest");
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  private request(op: "peek" | "digest"): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ op, id });
    });
  }

  private onMessage(msg: WorkerReply): void {
    if (msg.op === "ack") {
      this.inFlight -= msg.data.byteLength;
      this.recycle(msg.data);
      if (this.inFlight < this.highWaterMark) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
      return;
    }
    const waiter = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    waiter?.resolve(msg.hex);
  }

  private copyOf(chunk: Uint8Array): ArrayBuffer {
    const copy = this.takeBuffer(chunk.byteLength);
    copy.set(chunk);
    return copy.buffer as ArrayBuffer;
  }

  private recycle(data: ArrayBuffer): void {
    const list = this.spare.get(data.byteLength) ?? [];
    // Enough for the high-water mark's worth of 1 MiB blocks; more would only hold memory.
    if (list.length < 8) list.push(data);
    this.spare.set(data.byteLength, list);
  }

  private fail(err: Error): void {
    if (this.closed && this.pending.size === 0) return;
    this.failure ??= err;
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    for (const wake of this.waiters) wake();
    this.waiters = [];
  }
}

type WorkerReply = { op: "ack"; data: ArrayBuffer } | { op: "hex"; id: number; hex: string };

// Inline so it works the same from dist/ and from TypeScript sources under vitest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hash = createHash(workerData.alg);
parentPort.on("message", (msg) => {
  if (msg.op === "update") {
    hash.update(new Uint8Array(msg.data));
    parentPort.postMessage({ op: "ack", data: msg.data }, [msg.data]);
  } else if (msg.op === "peek") {
    parentPort.postMessage({ op: "hex", id: msg.id, hex: hash.copy().digest("hex") });
  } else if (msg.op === "digest") {
    parentPort.postMessage({ op: "hex", id: msg.id, hex: hash.digest("hex") });
  }
});
`;
