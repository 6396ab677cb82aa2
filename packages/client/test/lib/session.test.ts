import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { connect } from "../../src/lib/index.js";
import { rejection, session, testServer } from "./helpers.js";

describe("connect", () => {
  it("reports the server and closes politely", async () => {
    const server = await testServer();
    const s = await connect({ host: server.host, port: server.port, tls: server.tls });
    expect(s.server).toMatchObject({
      version: 1,
      auth: false,
      tls: { protocol: "TLSv1.3", trustedBy: "pin" },
    });
    expect(s.server.name).toMatch(/^ferryd/);
    expect(s.closed).toBe(false);
    await s.close();
    expect(s.closed).toBe(true);
    await s.close();
    expect((await rejection(s.stat("/"))).code).toBe("ECONNLOST");
  });

  it("authenticates with the right secret", async () => {
    const server = await testServer({ secret: "s3cret" });
    const s = await session(server, { secret: "s3cret" });
    expect(s.server.auth).toBe(true);
    expect((await s.stat("/")).type).toBe("dir");
  });

  it("EAUTH for a wrong secret", async () => {
    const server = await testServer({ secret: "s3cret" });
    const err = await rejection(
      connect({ host: server.host, port: server.port, tls: server.tls, secret: "wrong" }),
    );
    expect(err.code).toBe("EAUTH");
    expect(err.details).toMatchObject({ rejected: true });
  });

  it("EAUTH with authRequired when no secret was given", async () => {
    const server = await testServer({ secret: "s3cret" });
    const err = await rejection(connect({ host: server.host, port: server.port, tls: server.tls }));
    expect(err.code).toBe("EAUTH");
    expect(err.details).toMatchObject({ authRequired: true });
  });

  it("ECONNREFUSED when nothing listens", async () => {
    // Take a free port and release it: nothing listens there afterwards.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const address = probe.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise<void>((r) => probe.close(() => r()));
    expect((await rejection(connect({ host: "127.0.0.1", port }))).code).toBe("ECONNREFUSED");
  });

  it("ETIMEDOUT when the server never answers hello", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const err = await rejection(connect({ host: "127.0.0.1", port, timeoutMs: 200 }));
      expect(err.code).toBe("ETIMEDOUT");
    } finally {
      silent.close();
    }
  });
});

describe("directory requests", () => {
  it("list, stat, mkdir, rename, delete", async () => {
    const server = await testServer();
    const s = await session(server);
    await s.mkdir("a/b/c", { parents: true });
    expect((await rejection(s.mkdir("a"))).code).toBe("EEXIST");
    await s.mkdir("a", { parents: true });
    expect((await s.list("/a")).map((e) => [e.name, e.type])).toEqual([["b", "dir"]]);
    expect((await s.stat("/")).name).toBe("/");
    await s.rename("a/b", "a/z");
    expect((await rejection(s.stat("a/b"))).code).toBe("ENOENT");
    expect((await rejection(s.delete("a"))).code).toBe("ENOTEMPTY");
    await s.delete("a", { recursive: true });
    expect(await s.list("/")).toEqual([]);
    expect((await rejection(s.list("/missing"))).code).toBe("ENOENT");
  });

  it("listStream yields a large listing across many frames", async () => {
    const server = await testServer();
    const s = await session(server);
    const { writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const names = Array.from(
      { length: 3000 },
      (_, i) => `entry-with-a-longish-name-${String(i).padStart(5, "0")}`,
    );
    for (const n of names) await writeFile(join(server.root, n), "");
    const seen: string[] = [];
    for await (const entry of s.listStream("/")) seen.push(entry.name);
    expect(seen).toEqual(names);
    // Breaking out early leaves the session in step.
    for await (const _entry of s.listStream("/")) break;
    expect((await s.list("/")).length).toBe(3000);
    // Other calls of the same session inside the loop (their replies queue behind the listing).
    let statted = 0;
    for await (const entry of s.listStream("/")) {
      if (statted < 50) {
        expect((await s.stat(entry.name)).name).toBe(entry.name);
        statted++;
      }
    }
    expect(statted).toBe(50);
  });
});
