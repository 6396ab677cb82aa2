import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureGenerated, GENERATED_FIXTURES, pseudoRandomStream } from "./generate.js";
import {
  EMPTY_DIRS,
  ensureEmptyDirs,
  generatedEntry,
  listEmptyDirs,
  listFiles,
  type Manifest,
  readManifest,
  relativeToFilesDir,
} from "./manifest.js";
import { md5File } from "./md5.js";
import { FIXTURES_DIR, FIXTURES_PACKAGE_DIR } from "./paths.js";

let manifest: Manifest;
beforeAll(async () => {
  manifest = await readManifest();
  await ensureEmptyDirs();
});

describe("committed fixtures", () => {
  it("are exactly the files the MANIFEST lists, names byte for byte", async () => {
    const onDisk = await listFiles(FIXTURES_DIR);
    const listed = manifest.files.map(relativeToFilesDir);
    expect(onDisk.map((n) => Buffer.from(n).toString("hex"))).toEqual(
      listed.map((n) => Buffer.from(n).toString("hex")),
    );
  });

  it("match the MANIFEST's size and md5", async () => {
    for (const entry of manifest.files) {
      const full = join(FIXTURES_PACKAGE_DIR, entry.path);
      expect({ path: entry.path, size: (await stat(full)).size, md5: await md5File(full) }).toEqual(entry);
    }
  });

  it("have their empty directories after ensureEmptyDirs, as the MANIFEST lists", async () => {
    expect(manifest.emptyDirs).toEqual([...EMPTY_DIRS]);
    const found = await listEmptyDirs(FIXTURES_DIR);
    expect(found.map((d) => `files/${d}`)).toEqual([...EMPTY_DIRS].sort());
  });

  it("keep CRLF line ends and all 256 byte values (no text conversion by git)", async () => {
    const crlf = await readFile(join(FIXTURES_DIR, "crlf.txt"));
    expect(crlf.includes("\r\n")).toBe(true);
    expect(crlf.toString("latin1").replaceAll("\r\n", "").includes("\n")).toBe(false);
    const lf = await readFile(join(FIXTURES_DIR, "lf.txt"));
    expect(lf.includes("\r")).toBe(false);
    const all = await readFile(join(FIXTURES_DIR, "all-bytes.bin"));
    expect([...all]).toEqual(Array.from({ length: 256 }, (_, i) => i));
  });

  it("include the chunk-boundary sizes, an empty and a one-byte file", () => {
    const sizes = new Map(manifest.files.map((f) => [relativeToFilesDir(f), f.size]));
    expect(sizes.get("empty.bin")).toBe(0);
    expect(sizes.get("one-byte.bin")).toBe(1);
    expect(sizes.get("chunk-65536.bin")).toBe(65536);
    expect(sizes.get("chunk-65537.bin")).toBe(65537);
  });

  it("include a decomposed (NFD) name that differs from its NFC form, and a name with spaces, quotes, CJK, emoji", async () => {
    const names = await readdir(FIXTURES_DIR);
    const nfd = names.find((n) => n.includes("e\u0301"));
    expect(nfd).toBeDefined();
    expect(nfd!.normalize("NFC")).not.toBe(nfd);
    expect(names.some((n) => /[ ].*['"].*[\u4e00-\u9fff].*\u{1F6A2}/u.test(n))).toBe(true);
  });
});

describe("generator", () => {
  it("is deterministic and independent of the chunk size", async () => {
    const read = async (chunk: number): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of pseudoRandomStream("seed", 100_000, chunk)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    };
    const a = await read(4096);
    const b = await read(65536);
    expect(a.length).toBe(100_000);
    expect(a.equals(b)).toBe(true);
    const other: Buffer[] = [];
    for await (const c of pseudoRandomStream("other seed", 100_000)) other.push(c as Buffer);
    expect(Buffer.concat(other).equals(a)).toBe(false);
  });

  it("produces the 256 MiB fixture the MANIFEST describes", async () => {
    const path = await ensureGenerated(GENERATED_FIXTURES.random256M);
    const entry = generatedEntry(manifest, "random256M");
    expect((await stat(path)).size).toBe(entry.size);
    expect(await md5File(path)).toBe(entry.md5);
  });

  it.skipIf(process.env.FERRY_E2E_BIG !== "1")(
    "produces the 1 GiB fixture the MANIFEST describes",
    async () => {
      const path = await ensureGenerated(GENERATED_FIXTURES.random1G);
      const entry = generatedEntry(manifest, "random1G");
      expect((await stat(path)).size).toBe(entry.size);
      expect(await md5File(path)).toBe(entry.md5);
    },
  );
});
