import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rejection, session, tempDir, testServer } from "./helpers.js";

describe("pipelining", () => {
  it("200 concurrent puts and gets of small files all arrive intact", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const s = await session(server);
    const names = Array.from({ length: 200 }, (_, i) => `f${String(i).padStart(3, "0")}.txt`);
    await Promise.all(names.map((n, i) => writeFile(join(dir, n), `${n}:${"x".repeat(i * 37)}`)));

    const puts = await Promise.all(names.map((n) => s.put(join(dir, n), `/up/${n}`, { parents: true })));
    expect(puts.map((r) => r.remote)).toEqual(names.map((n) => `/up/${n}`));
    for (const n of names) {
      expect(await readFile(join(server.root, "up", n), "utf8")).toBe(await readFile(join(dir, n), "utf8"));
    }

    const back = await tempDir();
    const gets = await Promise.all(names.map((n) => s.get(`/up/${n}`, join(back, n))));
    expect(gets).toHaveLength(200);
    for (const n of names) {
      expect(await readFile(join(back, n), "utf8")).toBe(await readFile(join(dir, n), "utf8"));
    }
    expect((await s.list("/up")).map((e) => e.name)).toEqual(names);
  });

  it("keeps call order on the wire and an error ends only its own request", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const s = await session(server);
    await writeFile(join(dir, "a"), "1");
    await writeFile(join(dir, "b"), "2");
    // Same name twice without overwrite: the first call wins because it goes out first.
    const [first, second, third] = await Promise.allSettled([
      s.put(join(dir, "a"), "same"),
      s.put(join(dir, "b"), "same"),
      s.stat("same"),
    ]);
    expect(first.status).toBe("fulfilled");
    expect(second.status === "rejected" && (second.reason as { code: string }).code).toBe("EEXIST");
    expect(third.status === "fulfilled" && third.value.size).toBe(1);
    expect(await readFile(join(server.root, "same"), "utf8")).toBe("1");
    // Pipelined mixed requests, one failing in the middle.
    const results = await Promise.allSettled([
      s.mkdir("d"),
      s.mkdir("d"),
      s.rename("same", "d/moved"),
      s.delete("d", { recursive: false }),
      s.stat("d/moved"),
    ]);
    expect(
      results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code)),
    ).toEqual(["ok", "EEXIST", "ok", "ENOTEMPTY", "ok"]);
    expect((await rejection(s.stat("same"))).code).toBe("ENOENT");
  });
});
