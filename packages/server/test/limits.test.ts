import { describe, expect, it } from "vitest";
import { type Header, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

async function firstReply(port: number): Promise<{ client: RawClient; reply: Header }> {
  const client = await RawClient.connect(port);
  client.send({ cmd: "hello", version: 1, client: "t" });
  return { client, reply: await client.reply() };
}

describe("connection limits", () => {
  it("300 connections at once with --max-connections 256: 256 served, 44 get EBUSY", async () => {
    const { port } = await startTestServer({ maxConnections: 256, maxPerIp: 1000 });
    const results = await Promise.all(Array.from({ length: 300 }, () => firstReply(port)));
    const ok = results.filter((r) => r.reply.ok === true);
    const busy = results.filter((r) => r.reply.code === "EBUSY");
    expect(ok.length).toBe(256);
    expect(busy.length).toBe(44);
    for (const r of busy) expect(r.reply.id).toBeNull();
    await Promise.all(busy.map((r) => r.client.closed));
    // Every served connection still works.
    const stats = await Promise.all(ok.map((r) => r.client.request({ cmd: "stat", path: "/" })));
    expect(stats.every((s) => s.ok === true)).toBe(true);
    for (const r of ok) r.client.close();
    // Once they are gone the server takes new clients again.
    await until(async () => {
      const { client, reply } = await firstReply(port);
      client.close();
      return reply.ok === true ? true : undefined;
    }, "a free slot");
  });

  it("--max-per-ip caps the connections of one address", async () => {
    const { port } = await startTestServer({ maxPerIp: 2 });
    const a = await firstReply(port);
    const b = await firstReply(port);
    const c = await firstReply(port);
    expect(a.reply.ok).toBe(true);
    expect(b.reply.ok).toBe(true);
    expect(c.reply).toMatchObject({ ok: false, code: "EBUSY" });
    a.client.close();
    b.client.close();
  });
});
