import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRunningHash } from "@ferry/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { CoalescingWriter, WRITE_CHUNK, WRITE_SYSCALL_MAX } from "./coalescing-writer.js";

describe("CoalescingWriter", () => {
  it("writes 1 MiB blocks to the file in system calls of at most WRITE_SYSCALL_MAX, hashing every byte", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-coalesce-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "staged");
    const fh = await open(file, "w");
    const lengths: number[] = [];
    // The real FileHandle, with the length of each write it is asked for noted on the way through.
    const watched = new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop !== "write") return Reflect.get(target, prop, receiver);
        return (buf: Buffer, offset: number, length: number, position: number) => {
          lengths.push(length);
          return target.write(buf, offset, length, position);
        };
      },
    });
    const size = 2 * WRITE_CHUNK + 12_345;
    const data = randomBytes(size);
    const hash = createRunningHash(size, null);
    const writer = new CoalescingWriter(watched, 0, hash, size);
    for (let at = 0; at < size; at += 65_536) await writer.push(data.subarray(at, at + 65_536));
    await writer.flush();
    await fh.close();

    expect((await readFile(file)).equals(data)).toBe(true);
    expect(await hash.digest()).toBe(createHash("md5").update(data).digest("hex"));
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(size);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(WRITE_SYSCALL_MAX);
    expect(WRITE_SYSCALL_MAX).toBeLessThan(WRITE_CHUNK);
  });
});
