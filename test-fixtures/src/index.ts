/**
 * Shared test helpers and fixtures for ferry: temp folders, the real `ferryd`/`ferry` binaries as
 * child processes, the committed fixture files with their MANIFEST, and the big-file generator.
 */

export { makeTestCa, type TestCa, type TestCertificate } from "./certificates.js";
export {
  type FerryResult,
  type RunFerryOptions,
  runFerry,
  type SpawnedFerry,
  spawnFerry,
} from "./ferry.js";
export { type RunningFerryd, type SpawnFerrydOptions, spawnFerryd, trustArgs } from "./ferryd.js";
export {
  ensureGenerated,
  GENERATED_FIXTURES,
  type GeneratedFixture,
  pseudoRandomStream,
  writePseudoRandomFile,
} from "./generate.js";
export {
  compareBytes,
  EMPTY_DIRS,
  ensureEmptyDirs,
  type GeneratedManifestEntry,
  generatedEntry,
  listEmptyDirs,
  listFiles,
  type Manifest,
  type ManifestEntry,
  readManifest,
  relativeToFilesDir,
} from "./manifest.js";
export { md5File } from "./md5.js";
export {
  FERRY_BIN,
  FERRYD_BIN,
  FIXTURES_DIR,
  FIXTURES_PACKAGE_DIR,
  GENERATED_DIR,
  MANIFEST_PATH,
  REPO_ROOT,
} from "./paths.js";
export { isRunning, killAllProcesses, stopProcess, waitForExit } from "./process-registry.js";
export { inPty, type Pty, type PtyOptions } from "./pty.js";
export { makeTempDir, removeDir, scratchDir, tempDirForTest, testKnownHostsFile } from "./temp-dir.js";
