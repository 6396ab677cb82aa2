import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { runFerry, tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { hostileServer } from "./hostile-server.js";

describe("names from a hostile server", () => {
  it("mget -r writes only safe names inside the destination and prints the others escaped", async () => {
    const base = await tempDirForTest("ferry-hostile-");
    const dest = path.join(base, "dest");
    await mkdir(dest);
    const port = await hostileServer({
      "/": [{ name: "d", type: "dir" }],
      "/d": [
        { name: "ok.txt", type: "file", content: "fine" },
        { name: "../escaped.txt", type: "file", content: "evil" },
        { name: "..", type: "dir" },
        { name: "sub", type: "dir" },
      ],
      "/d/sub": [
        { name: "x\u001b[2Jy", type: "file", content: "escape" },
        { name: "a\\b", type: "file", content: "backslash" },
        { name: "deep.txt", type: "file", content: "deep" },
      ],
    });
    // The fake server speaks plain TCP.
    const r = await runFerry(["--no-tls", `127.0.0.1:${port}`, "-c", "mget -r d"], {
      cwd: dest,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ferry: mget -r d: EBADPATH: 4 of 6 transfers failed$/m);
    expect(r.stderr).toContain("unsafe name from the server: /d/../escaped.txt");
    expect(r.stderr).toContain(
      "get /d/sub/x\\x1b[2Jy → .: EBADPATH: unsafe name from the server: /d/sub/x\\x1b[2Jy;",
    );
    expect(r.stdout + r.stderr).not.toContain("\u001b");
    expect(await readFile(path.join(dest, "d", "ok.txt"), "utf8")).toBe("fine");
    expect(await readFile(path.join(dest, "d", "sub", "deep.txt"), "utf8")).toBe("deep");
    expect((await readdir(base)).sort()).toEqual(["dest"]);
    expect((await readdir(path.join(dest, "d"))).sort()).toEqual(["ok.txt", "sub"]);
    expect(await readdir(path.join(dest, "d", "sub"))).toEqual(["deep.txt"]);
  });
});
