import { randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { world, writeFiles } from "./helpers.js";

const host = (port: number): string => `127.0.0.1:${port}`;

/** The --json transfer lines of a run. */
const transfers = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((j) => j.kind === "transfer");

/**
 * mget -r decides from one listing per local folder which targets and partials exist (not a stat
 * each): what that listing shows must still be acted on.
 */
describe("mget -r into a folder that already holds some of the files", () => {
  it("continues a NAME.part, skips an identical file, refuses a different one, fetches the rest", async () => {
    const w = await world();
    const big = randomBytes(300_000);
    const same = randomBytes(5_000);
    // Sent through ferry, so the server knows each file's md5 (what "up to date" is judged by).
    await writeFiles(path.join(w.local, "up"), {
      "t/big.bin": big,
      "t/same.bin": same,
      "t/other.bin": "server's",
      "t/new.bin": "new",
    });
    expect((await w.ferry([host(w.port), "-c", "lcd up; mput -r t"])).code).toBe(0);
    const out = path.join(w.local, "t");
    await writeFiles(out, {
      "big.bin.part": big.subarray(0, 100_000),
      "same.bin": same,
      "other.bin": "mine",
    });

    const r = await w.ferry([host(w.port), "--json", "-c", "mget -r t"]);
    expect(r.code).toBe(1);
    const byName = new Map(transfers(r.stdout).map((t) => [path.basename(String(t.to)), t]));
    expect(byName.get("big.bin")).toMatchObject({ resumedFrom: 100_000, check: "ok" });
    expect(byName.get("same.bin")).toMatchObject({ skipped: true, reason: "up to date" });
    expect(byName.get("new.bin")).toMatchObject({ check: "ok" });
    expect(r.stderr).toMatch(/EEXIST/);
    expect((await readFile(path.join(out, "big.bin"))).equals(big)).toBe(true);
    expect(await readFile(path.join(out, "other.bin"), "utf8")).toBe("mine");
    expect((await readdir(out)).sort()).toEqual(["big.bin", "new.bin", "other.bin", "same.bin"]);

    await writeFile(path.join(out, "other.bin"), "mine, again");
    const again = await w.ferry([host(w.port), "--json", "--yes", "-c", "mget -r t"]);
    expect(again.code).toBe(0);
    expect(await readFile(path.join(out, "other.bin"), "utf8")).toBe("server's");
  });
});
