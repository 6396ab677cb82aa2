import { closeSync, fstatSync, openSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ChecksumCache } from "./checksums.js";
import { LocalReadHandle } from "./local-read.js";

async function tempFile(bytes: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ferryd-read-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "f");
  writeFileSync(file, bytes);
  return file;
}

describe("LocalReadHandle on a bare descriptor (a small file)", () => {
  it("reads, checks and closes inline; a second close leaves a descriptor that took the number alone", async () => {
    const file = await tempFile("hello");
    const fd = openSync(file, "r");
    const handle = new LocalReadHandle(fd, fstatSync(fd), "f", new ChecksumCache(), "f");
    expect((await handle.readAll()).toString()).toBe("hello");
    const chunks: string[] = [];
    for await (const chunk of handle.read(1, 4)) chunks.push(chunk.bytes.toString());
    expect(chunks).toEqual(["ell"]);
    await handle.assertUnchanged();
    await handle.close();
    // The number is free again: the next open (here, another file's) is likely to get it.
    const next = openSync(file, "r");
    onTestFinished(() => closeSync(next));
    await handle.close();
    expect(fstatSync(next).size).toBe(5);
  });

  it("a file changed after the open is ECHANGED", async () => {
    const file = await tempFile("hello");
    const fd = openSync(file, "r");
    const handle = new LocalReadHandle(fd, fstatSync(fd), "f", new ChecksumCache(), "f");
    onTestFinished(() => handle.close());
    writeFileSync(file, "hello, longer");
    await expect(handle.assertUnchanged()).rejects.toMatchObject({ code: "ECHANGED" });
  });
});
