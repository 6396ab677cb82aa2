import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { world } from "./helpers.js";

const LOAD_LOG_HOOK = pathToFileURL(path.join(import.meta.dirname, "load-log.mjs")).href;
const CLIENT = pathToFileURL(path.resolve(import.meta.dirname, "../..")).href;

/** Runs ferry with the load-log hook; the modules it loaded, besides node's own and the hook. */
async function modulesLoaded(
  w: Awaited<ReturnType<typeof world>>,
  args: string[],
): Promise<{ code: number | null; modules: string[] }> {
  const log = path.join(await tempDirForTest("ferry-load-log-"), "modules.txt");
  const r = await w.ferry(args, {
    env: { NODE_OPTIONS: `--import=${LOAD_LOG_HOOK}`, FERRY_LOAD_LOG: log },
  });
  const lines = (await readFile(log, "utf8")).split("\n");
  const modules = lines.filter((l) => l !== "" && !l.startsWith("node:") && !l.includes("load-log.mjs"));
  return { code: r.code, modules };
}

describe("ferry start-up (issue 12: -c pwd within 2x of node -e 0)", () => {
  it("-c runs load the CLI as one bundled file, without inquirer or cli-progress", async () => {
    const w = await world();
    const { code, modules } = await modulesLoaded(w, [`127.0.0.1:${w.port}`, "-c", "pwd"]);
    expect(code).toBe(0);
    // Module by module, the CLI and the protocol package were ~100 files: most of start-up.
    expect(modules.map((m) => m.replace(CLIENT, "client:"))).toEqual([
      "client:/bin/ferry.js",
      "client:/dist/cli/main.bundle.js",
    ]);
  });

  it("--version loads nothing past the bundle either", async () => {
    const w = await world();
    const { code, modules } = await modulesLoaded(w, ["--version"]);
    expect(code).toBe(0);
    expect(modules.filter((m) => /inquirer|cli-progress/.test(m))).toEqual([]);
    expect(modules).toHaveLength(2);
  });
});
