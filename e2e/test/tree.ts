import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  FIXTURES_DIR,
  listEmptyDirs,
  listFiles,
  type Manifest,
  md5File,
  relativeToFilesDir,
} from "@ferry/test-fixtures";
import { expect } from "vitest";

/** Names as hex of their UTF-8 bytes, so that a normalised or re-encoded name shows as a difference. */
export function hexNames(names: readonly string[]): string[] {
  return names.map((n) => Buffer.from(n, "utf8").toString("hex"));
}

/**
 * Asserts that `dir` holds exactly the committed fixture tree: the same names byte for byte, every
 * file's size and md5 as in the MANIFEST, and the same empty directories.
 */
export async function expectFixtureTree(dir: string, manifest: Manifest): Promise<void> {
  const expected = manifest.files.map(relativeToFilesDir);
  expect(hexNames(await listFiles(dir))).toEqual(hexNames(expected));
  for (const entry of manifest.files) {
    const rel = relativeToFilesDir(entry);
    const full = join(dir, rel);
    expect({ rel, size: (await stat(full)).size, md5: await md5File(full) }).toEqual({
      rel,
      size: entry.size,
      md5: entry.md5,
    });
  }
  const emptyDirs = manifest.emptyDirs.map((d) => d.replace(/^files\//, "")).sort();
  expect(hexNames(await listEmptyDirs(dir))).toEqual(hexNames(emptyDirs));
}

export { FIXTURES_DIR };
