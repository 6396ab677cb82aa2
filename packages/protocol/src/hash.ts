import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";
import type { IHasher } from "hash-wasm";
import { FerryError } from "./errors.js";
import type { HashAlgorithm } from "./messages.js";

/**
 * A running hash in one of the {@link HashAlgorithm}s. `peek()` reads it midway (resume needs the hash
 * of a prefix) at the cost of a copy of the state, never of the bytes.
 */
export interface Digest {
  readonly alg: HashAlgorithm;
  update(chunk: Uint8Array): Digest;
  /** Lower-case hex of the bytes so far; the digest goes on. */
  peek(): string;
  /** Lower-case hex of all the bytes; the digest is spent. */
  digest(): string;
}

/**
 * A digest in `alg`. md5 and sha256 are node:crypto's; xxh128 (XXH3-128, seed 0) is hash-wasm's,
 * whose hashers are made asynchronously: each is a wasm instance, so spent ones are kept for reuse.
 */
export async function createDigest(alg: HashAlgorithm = "md5"): Promise<Digest> {
  return createDigestNow(alg) ?? new WasmDigest(alg, await newXxh128());
}

/**
 * A digest in `alg` without waiting, or null when none can be had now (an xxh128 when no spent wasm
 * hasher is idle: {@link prepareDigests} or {@link createDigest} then).
 */
export function createDigestNow(alg?: "md5" | "sha256"): Digest;
export function createDigestNow(alg: HashAlgorithm): Digest | null;
export function createDigestNow(alg: HashAlgorithm = "md5"): Digest | null {
  if (alg !== "xxh128") return new NodeDigest(alg, createHash(alg));
  const idle = idleXxh128.pop();
  return idle ? new WasmDigest(alg, idle.init()) : null;
}

/** Makes sure `count` digests of each of `algs` can be created at once by {@link createDigestNow}. */
export async function prepareDigests(algs: readonly HashAlgorithm[], count = 2): Promise<void> {
  if (!algs.includes("xxh128")) return;
  const want = Math.min(count, IDLE_XXH128_MAX) - idleXxh128.length;
  const made = await Promise.all(Array.from({ length: Math.max(0, want) }, newXxh128));
  idleXxh128.push(...made);
}

/** Spent xxh128 hashers kept for the next digest: each holds a wasm instance (~70 KiB of memory). */
const IDLE_XXH128_MAX = 16;
const idleXxh128: IHasher[] = [];

/**
 * hash-wasm is loaded on the first xxh128, not with this module: loading it costs ~10 MB of resident
 * memory (measured: a bare node process 10.5 MB higher after the import), which every md5 transfer
 * of the server and the client would otherwise carry.
 */
async function newXxh128(): Promise<IHasher> {
  try {
    const { createXXHash128 } = await import("hash-wasm");
    return await createXXHash128(0, 0);
  } catch (err) {
    throw new FerryError(
      "EINTERNAL",
      `xxh128 cannot be hashed here: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

class NodeDigest implements Digest {
  constructor(
    readonly alg: HashAlgorithm,
    private readonly hash: Hash,
  ) {}

  update(chunk: Uint8Array): Digest {
    this.hash.update(chunk);
    return this;
  }

  peek(): string {
    return this.hash.copy().digest("hex");
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

class WasmDigest implements Digest {
  private spent = false;

  constructor(
    readonly alg: HashAlgorithm,
    private readonly hasher: IHasher,
  ) {}

  update(chunk: Uint8Array): Digest {
    this.hasher.update(chunk);
    return this;
  }

  peek(): string {
    // digest() ends a hash-wasm state; save() before and load() after keep this one going (the state
    // is a few hundred bytes whatever was hashed).
    const state = this.hasher.save();
    const hex = this.hasher.digest("hex");
    this.hasher.load(state);
    return hex;
  }

  digest(): string {
    if (this.spent) throw new Error("digest() called twice");
    this.spent = true;
    const hex = this.hasher.digest("hex");
    if (idleXxh128.length < IDLE_XXH128_MAX) idleXxh128.push(this.hasher);
    return hex;
  }
}

/** The answer to an auth challenge: hex HMAC-SHA256 keyed by the shared secret over the challenge bytes. */
export function authAnswer(secret: string, challengeHex: string): string {
  return createHmac("sha256", secret).update(Buffer.from(challengeHex, "hex")).digest("hex");
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Compares two hex strings in constant time (for their length). Anything that is not whole hex bytes
 * is unequal to everything: Buffer.from(_, "hex") stops at the first bad digit, which would make
 * "abzz" equal "ab".
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length || !HEX_BYTES.test(a) || !HEX_BYTES.test(b)) return false;
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
