import { appendFile, mkdtemp, open, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { sameFileVersion } from "./file-version.js";

const PAST = new Date("2001-01-01T00:00:00Z");

/** An open file dated in the past, so that any change moves its mtime whatever the clock's tick. */
async function openFile() {
  const dir = await mkdtemp(join(tmpdir(), "ferry-file-version-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "f.bin");
  await writeFile(path, "0123456789");
  await utimes(path, PAST, PAST);
  const fh = await open(path, "r");
  onTestFinished(() => fh.close());
  return { path, fh, opened: await fh.stat() };
}

describe("sameFileVersion", () => {
  it("holds while nobody writes, reading included", async () => {
    const { fh, opened } = await openFile();
    await fh.read(Buffer.alloc(10), 0, 10, 0);
    expect(sameFileVersion(opened, await fh.stat())).toBe(true);
  });

  it.each([
    [
      "written in place, same size",
      (p: string) => open(p, "r+").then((w) => w.write("X", 3).then(() => w.close())),
    ],
    ["appended to", (p: string) => appendFile(p, "more")],
  ])("fails once the file is %s", async (_what, change) => {
    const { path, fh, opened } = await openFile();
    await change(path);
    expect(sameFileVersion(opened, await fh.stat())).toBe(false);
  });
});
