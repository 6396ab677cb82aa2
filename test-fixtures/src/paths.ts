import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// This file compiles to dist/paths.js and is also run from src/ by vitest: both are one level below
// the package folder, so the same relative walk works for both.
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The test-fixtures package folder. */
export const FIXTURES_PACKAGE_DIR: string = packageDir;
/** The monorepo root. */
export const REPO_ROOT: string = join(packageDir, "..");
/** The committed small fixtures (`test-fixtures/files`). */
export const FIXTURES_DIR: string = join(packageDir, "files");
/** The git-ignored folder where the big pseudo-random fixtures are generated. */
export const GENERATED_DIR: string = join(packageDir, "generated");
/** Path, size and md5 of every fixture. */
export const MANIFEST_PATH: string = join(packageDir, "MANIFEST.json");
/** Absolute path of the `ferryd` entry point (runs the built server). */
export const FERRYD_BIN: string = join(REPO_ROOT, "packages", "server", "bin", "ferryd.js");
/** Absolute path of the `ferry` entry point (runs the built client CLI). */
export const FERRY_BIN: string = join(REPO_ROOT, "packages", "client", "bin", "ferry.js");
