import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { CHUNK_SIZE, readRange } from "./local-file.js";

async function fileWith(bytes: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-local-file-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "f.bin");
  await writeFile(path, bytes);
  return path;
}

describe("readRange", () => {
  it("reuses its buffers only after the consumer is done with a chunk", async () => {
    const bytes = randomBytes(5 * CHUNK_SIZE + 123);
    const file = await open(await fileWith(bytes), "r");
    onTestFinished(() => file.close());
    const hash = createHash("md5");
    const seen = new Set<ArrayBufferLike>();
    const read = await readRange(file, 7, bytes.length, async (chunk) => {
      seen.add(chunk.buffer);
      const before = Buffer.from(chunk);
      // The next block is being read meanwhile; it must not land in this chunk's memory.
      await sleep(5);
      expect(Buffer.compare(before, chunk)).toBe(0);
      hash.update(chunk);
    });
    expect(read).toBe(bytes.length - 7);
    expect(hash.digest("hex")).toBe(createHash("md5").update(bytes.subarray(7)).digest("hex"));
    expect(seen.size).toBe(2);
  });

  it("returns fewer bytes than asked when the file is shorter", async () => {
    const bytes = randomBytes(1000);
    const file = await open(await fileWith(bytes), "r");
    onTestFinished(() => file.close());
    let got = 0;
    expect(
      await readRange(file, 0, 5000, (chunk) => {
        got += chunk.length;
      }),
    ).toBe(1000);
    expect(got).toBe(1000);
  });
});
