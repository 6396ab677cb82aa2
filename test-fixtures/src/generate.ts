import { createCipheriv, createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GENERATED_DIR } from "./paths.js";

/** A big fixture that is generated, not committed. */
export interface GeneratedFixture {
  /** File name inside GENERATED_DIR. */
  name: string;
  size: number;
  seed: string;
}

const MiB = 1024 * 1024;

export const GENERATED_FIXTURES = {
  random256M: { name: "random-256MiB.bin", size: 256 * MiB, seed: "ferry-fixture-256MiB" },
  random1G: { name: "random-1GiB.bin", size: 1024 * MiB, seed: "ferry-fixture-1GiB" },
} as const satisfies Record<string, GeneratedFixture>;

/**
 * The pseudo-random byte stream of a seed: AES-128-CTR keystream (key = md5(seed), IV = 0), i.e. the
 * cipher applied to zeros. Deterministic across machines and Node versions, and fast (AES-NI).
 */
export function pseudoRandomStream(seed: string, size: number, chunkSize = MiB): Readable {
  const key = createHash("md5").update(seed, "utf8").digest();
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  let left = size;
  return new Readable({
    highWaterMark: 4 * chunkSize,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, chunkSize);
      left -= n;
      this.push(cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n)));
    },
  });
}

/** Writes `size` pseudo-random bytes of `seed` to `path` (via a temp name, renamed when complete). */
export async function writePseudoRandomFile(path: string, seed: string, size: number): Promise<void> {
  const tmp = `${path}.generating-${process.pid}`;
  try {
    await pipeline(pseudoRandomStream(seed, size), createWriteStream(tmp));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Makes sure a generated fixture exists in GENERATED_DIR and returns its path. Generates it only when
 * it is missing or has the wrong size (an interrupted run leaves only a temp name, never a short file).
 */
export async function ensureGenerated(fixture: GeneratedFixture, dir = GENERATED_DIR): Promise<string> {
  const path = join(dir, fixture.name);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && existing.size === fixture.size) return path;
  await mkdir(dir, { recursive: true });
  await writePseudoRandomFile(path, fixture.seed, fixture.size);
  return path;
}
