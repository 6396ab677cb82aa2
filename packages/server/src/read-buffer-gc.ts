import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Bytes received (all connections together) between two young-generation collections. */
export const READ_GC_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: "minor" }) => void;

/**
 * Node reads an accepted socket into a fresh 64 KiB buffer each time (an accepted socket cannot be
 * given its own `onread` buffer), and the buffers are freed only by a GC. A transfer makes little JS
 * garbage, so none comes until V8's external-memory soft limit: ~64 MB of dead read buffers on top
 * of ferryd's ~35 MB (98 MB peak on a 1 GiB put). A minor GC after every READ_GC_BYTES received
 * (~70 µs, about 1 % of a core at 300 MB/s) keeps the peak near 72 MB.
 */
export class ReadBufferCollector {
  private sinceLast = 0;
  /** Undefined until first needed; null when V8's gc cannot be had (then never asked again). */
  private collect: Collect | null | undefined;

  constructor(private readonly every = READ_GC_BYTES) {}

  /** `bytes` more were read from a socket. */
  received(bytes: number): void {
    this.sinceLast += bytes;
    if (this.sinceLast < this.every) return;
    this.sinceLast = 0;
    if (this.collect === undefined) this.collect = youngCollector();
    this.collect?.({ type: "minor" });
  }
}

/** One for the process: every connection's reads count towards the same collections. */
export const readBuffers = new ReadBufferCollector();

/**
 * V8's `gc` function, or null where it cannot be had. The documented way is `node --expose-gc`,
 * which a `ferryd` started through a package manager's shim cannot carry; set now, the flag gives a
 * fresh context's global its `gc` (the way Jest's leak detector gets one), and that is all it does.
 */
function youngCollector(): Collect | null {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as Collect) : null;
  } catch {
    return null;
  }
}
