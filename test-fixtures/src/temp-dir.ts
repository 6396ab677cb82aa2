import { mkdtempSync, rmSync } from "node:fs";
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

const leftovers = new Set<string>();

/**
 * A temp directory that lives as long as the current test (inside one) or else the whole process:
 * for helpers that may be called from beforeAll or outside vitest.
 */
export async function scratchDir(prefix?: string): Promise<string> {
  const dir = await makeTempDir(prefix);
  if (process.env.VITEST) {
    const { onTestFinished } = await import("vitest");
    try {
      onTestFinished(() => removeDir(dir));
      return dir;
    } catch {
      // Not inside a test (beforeAll): removed when the process exits, below.
    }
  }
  if (leftovers.size === 0) {
    process.once("exit", () => {
      for (const d of leftovers) rmSync(d, { recursive: true, force: true });
    });
  }
  leftovers.add(dir);
  return dir;
}

let processKnownHosts: string | undefined;

/**
 * A known_hosts path private to this test process, so that tests never read or write the user's
 * ~/.ferry/known_hosts. Its folder is created now and removed when the process exits.
 */
export function testKnownHostsFile(): string {
  if (processKnownHosts === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "ferry-known-hosts-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    processKnownHosts = join(dir, "known_hosts");
  }
  return processKnownHosts;
}
