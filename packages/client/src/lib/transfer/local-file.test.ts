import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { assertUnchanged, CHUNK_SIZE, readRange } from "./local-file.js";

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

// The check behind both kinds of put. A small file is read with one read between the open and this
// check, with no point to change it in between from outside; so the check is tested here, and the
// handshake put end to end in test/lib/changed-source.test.ts.
describe("assertUnchanged", () => {
  const PAST = new Date("2001-01-01T00:00:00Z");

  it("passes while the file is only read, and fails with a local ECHANGED once it is written", async () => {
    const path = await fileWith(randomBytes(1000));
    await utimes(path, PAST, PAST); // any write now moves mtime, whatever the clock's granularity
    const file = await open(path, "r");
    onTestFinished(() => file.close());
    const opened = await file.stat();
    await file.read(Buffer.alloc(1000), 0, 1000, 0);
    await assertUnchanged(file, opened, path);
    const writer = await open(path, "r+");
    await writer.write(Buffer.from("changed"), 0, 7, 500);
    await writer.close();
    await expect(assertUnchanged(file, opened, path)).rejects.toMatchObject({
      code: "ECHANGED",
      details: { local: true, path },
    });
  });
});
