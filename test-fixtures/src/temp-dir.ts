import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Creates a fresh directory under the OS temp folder. The caller removes it (or use tempDirForTest). */
export async function makeTempDir(prefix = "ferry-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory tree; missing is fine. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Creates a temp directory that is removed when the current vitest test finishes, pass or fail.
 * Must be called inside a test (not in beforeAll).
 */
export async function tempDirForTest(prefix?: string): Promise<string> {
  // Imported lazily so that non-test users of this package (bench) never load vitest.
  const { onTestFinished } = await import("vitest");
  const dir = await makeTempDir(prefix);
  onTestFinished(() => removeDir(dir));
  return dir;
}
