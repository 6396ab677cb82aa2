import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { NameArena, SORT_SCRATCH_PER_NAME } from "../src/storage/local/name-arena.js";
import { RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/**
 * 50,000 names of 200 bytes: about 13 MB of entries frames, far more than the socket buffers of a
 * client that does not read can take, so such a listing stays in progress until its client leaves.
 */
const COUNT = 50_000;
const NAME_BYTES = 200;
const namesOf = (count: number) =>
  Array.from({ length: count }, (_, i) => `${"n".repeat(NAME_BYTES - 6)}${String(i).padStart(6, "0")}`);

async function makeFiles(dir: string, names: string[]): Promise<void> {
  await mkdir(dir);
  // xargs touch: 50,000 files in about a second, where as many writeFile calls take several.
  execFileSync("xargs", ["touch"], { cwd: dir, input: names.join("\n") });
}

/** Lists `path` until its first entries frame has come, then reads no more. */
async function stalledLister(port: number, dir: string): Promise<RawClient> {
  const c = await RawClient.ready(port);
  const first = await c.request({ cmd: "list", path: dir });
  expect(first).toMatchObject({ ok: true, type: "entries", more: true });
  return c;
}

describe("listing memory budget", () => {
  it("refuses a third big listing while two stalled ones hold the budget, and takes it back when they leave", async () => {
    // One listing holds its names in the arena, plus sort scratch until sorted: room for two, not three.
    const one = NameArena.cost(COUNT, COUNT * NAME_BYTES) + COUNT * SORT_SCRATCH_PER_NAME;
    const { port, root } = await startTestServer({ maxListMemory: Math.floor(2.5 * one) }, true);
    await makeFiles(path.join(root, "big"), namesOf(COUNT));
    await mkdir(path.join(root, "small"));
    await writeFile(path.join(root, "small", "a.txt"), "a");

    const a = await stalledLister(port, "big");
    const b = await stalledLister(port, "big");
    const c = await RawClient.ready(port);
    expect(await c.list("big")).toMatchObject({ ok: false, code: "EBUSY" });
    // A small directory lists all the same.
    expect(await c.list("small")).toMatchObject([{ name: "a.txt" }]);

    a.close();
    b.close();
    const entries = await until(async () => {
      const r = await c.list("big");
      return Array.isArray(r) ? r : undefined;
    }, "the budget back once the stalled clients left");
    expect(entries).toHaveLength(COUNT);
    expect((entries as Entry[]).map((e) => e.name)).toEqual(namesOf(COUNT));
    c.close();
  });

  it("refuses a directory over --max-list-entries with ETOOBIG, and one too big for the whole budget", async () => {
    const { port, root } = await startTestServer({ maxListEntries: 2, maxListMemory: 70 * 1024 }, true);
    await mkdir(path.join(root, "three"));
    for (const name of ["a", "b", "c"]) await writeFile(path.join(root, "three", name), name);
    const c = await RawClient.ready(port);
    expect(await c.list("three")).toMatchObject({ ok: false, code: "ETOOBIG" });
    c.close();

    // 1,000 names of 200 bytes need about 226 KB: over a 70 KiB budget even with nothing else listing.
    const wide = await startTestServer({ maxListMemory: 70 * 1024 }, true);
    await makeFiles(path.join(wide.root, "wide"), namesOf(1000));
    const d = await RawClient.ready(wide.port);
    expect(await d.list("wide")).toMatchObject({ ok: false, code: "ETOOBIG" });
    d.close();
  });
});
