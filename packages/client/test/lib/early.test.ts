import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FerryError } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { connect } from "../../src/lib/index.js";
import { tempDir, testServer } from "./helpers.js";

describe("connect({ early: true })", () => {
  it("resolves before the hello is answered; requests made at once are done, and ready tells the server", async () => {
    const server = await testServer();
    const local = await tempDir();
    await writeFile(join(local, "a.txt"), "alpha");
    const s = await connect({ host: server.host, port: server.port, tls: server.tls, early: true });
    // Nothing is known of the server yet: the hello's answer cannot have been read.
    expect(s.server.name).toBe("");
    const put = s.put(join(local, "a.txt"), "/a.txt");
    const listed = s.list("/");
    const info = await s.ready;
    expect(info.name).toMatch(/^ferryd\//);
    expect(s.server).toEqual(info);
    expect((await put).size).toBe(5);
    expect((await listed).map((e) => e.name)).toContain("a.txt");
    expect(await readFile(join(server.root, "a.txt"), "utf8")).toBe("alpha");
    await s.close();
  });

  it("a server that wants a login: every request fails with EAUTH marked early, none is done, the server goes on", async () => {
    const server = await testServer({ secret: "s3cret" });
    const local = await tempDir();
    await writeFile(join(local, "a.txt"), "alpha");
    const s = await connect({ host: server.host, port: server.port, tls: server.tls, early: true });
    const results = await Promise.allSettled([
      s.mkdir("/made"),
      s.put(join(local, "a.txt"), "/a.txt"),
      s.ready,
    ]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(FerryError);
      expect((err as FerryError).code).toBe("EAUTH");
      expect((err as FerryError).details).toMatchObject({ early: true, authRequired: true });
    }
    expect(s.closed).toBe(true);
    const again = await connect({ host: server.host, port: server.port, tls: server.tls, secret: "s3cret" });
    expect((await again.list("/")).map((e) => e.name).filter((n) => !n.startsWith("."))).toEqual([]);
    await again.close();
  });
});
