import { mkdir, readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { GENERATED_FIXTURES } from "./generate.js";
import { FIXTURES_PACKAGE_DIR, MANIFEST_PATH } from "./paths.js";

/** One fixture file; `path` is relative to the test-fixtures package, `/`-separated. */
export interface ManifestEntry {
  path: string;
  size: number;
  md5: string;
}

export interface GeneratedManifestEntry extends ManifestEntry {
  seed: string;
}

/** The contents of test-fixtures/MANIFEST.json. */
export interface Manifest {
  /** Committed files under files/. */
  files: ManifestEntry[];
  /** Empty directories under files/ (git cannot hold them; ensureEmptyDirs creates them). */
  emptyDirs: string[];
  /** Big files produced by the generator into generated/. */
  generated: GeneratedManifestEntry[];
}

/** The empty directories of the fixture tree, relative to the package (see ensureEmptyDirs). */
export const EMPTY_DIRS: readonly string[] = ["files/tree/empty", "files/tree/level-1/level-2/level-3/empty"];

/** Reads MANIFEST.json. */
export async function readManifest(): Promise<Manifest> {
  return JSON.parse(await readFile(MANIFEST_PATH, "utf8")) as Manifest;
}

/**
 * Creates the fixture tree's empty directories, which git does not keep. Call before using
 * FIXTURES_DIR as a tree (the e2e suite does); harmless when they exist.
 */
export async function ensureEmptyDirs(): Promise<void> {
  for (const dir of EMPTY_DIRS) await mkdir(join(FIXTURES_PACKAGE_DIR, dir), { recursive: true });
}

/** Every file below `dir`, as `/`-separated paths relative to `base`, in byte order of the names. */
export async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(relative(base, full).split(sep).join("/"));
  }
  return out.sort(compareBytes);
}

/** Every directory below `dir` that has no entries, relative to `base`. */
export async function listEmptyDirs(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    const inner = await readdir(full);
    if (inner.length === 0) out.push(relative(base, full).split(sep).join("/"));
    else out.push(...(await listEmptyDirs(full, base)));
  }
  return out.sort(compareBytes);
}

/** Orders strings by their UTF-8 bytes (the protocol's listing order), not by UTF-16 units. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The committed fixtures' paths relative to FIXTURES_DIR (no `files/` prefix). */
export function relativeToFilesDir(entry: ManifestEntry): string {
  return entry.path.replace(/^files\//, "");
}

/** The manifest entry of a generated fixture by its key in GENERATED_FIXTURES. */
export function generatedEntry(
  manifest: Manifest,
  key: keyof typeof GENERATED_FIXTURES,
): GeneratedManifestEntry {
  const name = `generated/${GENERATED_FIXTURES[key].name}`;
  const entry = manifest.generated.find((g) => g.path === name);
  if (!entry) throw new Error(`MANIFEST.json has no entry for ${name}`);
  return entry;
}
