// `pnpm --filter @ferry/test-fixtures generate [--big] [--write-manifest]`:
// generates the big fixtures (the 1 GiB one only with --big or FERRY_E2E_BIG=1), and with
// --write-manifest rewrites MANIFEST.json from the files on disk (for when a fixture is added on purpose).
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureGenerated, GENERATED_FIXTURES } from "./generate.js";
import { EMPTY_DIRS, ensureEmptyDirs, listFiles, type Manifest } from "./manifest.js";
import { md5File } from "./md5.js";
import { FIXTURES_DIR, GENERATED_DIR, MANIFEST_PATH } from "./paths.js";

const argv = process.argv.slice(2);
const big = argv.includes("--big") || process.env.FERRY_E2E_BIG === "1" || argv.includes("--write-manifest");

await ensureEmptyDirs();
const generated: Manifest["generated"] = [];
for (const fixture of Object.values(GENERATED_FIXTURES)) {
  if (fixture.size > 256 * 1024 * 1024 && !big) continue;
  const path = await ensureGenerated(fixture);
  console.log(`generated/${fixture.name} ${fixture.size} bytes`);
  if (argv.includes("--write-manifest")) {
    generated.push({
      path: `generated/${fixture.name}`,
      size: fixture.size,
      md5: await md5File(path),
      seed: fixture.seed,
    });
  }
}

if (argv.includes("--write-manifest")) {
  const files: Manifest["files"] = [];
  for (const rel of await listFiles(FIXTURES_DIR)) {
    const full = join(FIXTURES_DIR, rel);
    const { size } = await stat(full);
    files.push({ path: `files/${rel}`, size, md5: await md5File(full) });
  }
  const manifest: Manifest = { files, emptyDirs: [...EMPTY_DIRS], generated };
  await writeFile(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(
    `wrote ${MANIFEST_PATH} (${files.length} files, ${generated.length} generated) from ${GENERATED_DIR}`,
  );
}
