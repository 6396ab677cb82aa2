import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OffThreadDigest } from "./off-thread-digest.js";

describe("OffThreadDigest", () => {
  it("matches an in-thread md5 over copied, transferred and empty chunks", async () => {
    const chunks = [randomBytes(1), Buffer.alloc(0), randomBytes(300_000), randomBytes(65_536)];
    const expected = createHash("md5");
    const digest = new OffThreadDigest();
    for (const chunk of chunks) {
      expected.update(chunk);
      digest.update(chunk);
    }
    const owned = new Uint8Array(new ArrayBuffer(4096)).fill(7);
    expected.update(owned);
    digest.update(owned, true);
    expect(owned.byteLength).toBe(0); // moved, not copied
    expect(await digest.digest()).toBe(expected.digest("hex"));
  });

  it("stays correct while reusing the buffers the worker hands back", async () => {
    const digest = new OffThreadDigest("md5", 2 * 1024 * 1024);
    const expected = createHash("md5");
    for (let i = 0; i < 40; i++) {
      const block = digest.takeBuffer(256 * 1024);
      expect(block.byteLength).toBe(256 * 1024);
      block.fill(i);
      expected.update(block);
      if (!digest.update(block, true)) await digest.whenWritable();
      if (i % 10 === 0) await digest.peek(); // lets the hand-backs arrive, so later blocks are recycled ones
    }
    expect(await digest.digest()).toBe(expected.digest("hex"));
  });

  it("peeks at a prefix digest and keeps going", async () => {
    const a = randomBytes(10_000);
    const b = randomBytes(20_000);
    const digest = new OffThreadDigest();
    digest.update(a);
    expect(await digest.peek()).toBe(createHash("md5").update(a).digest("hex"));
    digest.update(b);
    expect(await digest.digest()).toBe(createHash("md5").update(a).update(b).digest("hex"));
  });

  it("signals backpressure past its high-water mark and recovers", async () => {
    const digest = new OffThreadDigest("md5", 1024 * 1024);
    const chunk = Buffer.alloc(512 * 1024, 1);
    const expected = createHash("md5");
    let sawFull = false;
    for (let i = 0; i < 64; i++) {
      expected.update(chunk);
      if (!digest.update(chunk)) {
        sawFull = true;
        await digest.whenWritable();
      }
    }
    expect(sawFull).toBe(true);
    expect(await digest.digest()).toBe(expected.digest("hex"));
  });
});
