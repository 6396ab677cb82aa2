import { authAnswer } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { startServer } from "../src/index.js";
import { RawClient } from "./helpers/raw-client.js";
import { startTestServer, tempDir } from "./helpers/server.js";
import { assertServes } from "./helpers/wait.js";

const SECRET = "correct horse battery staple";

describe("auth over the wire", () => {
  it("the right answer opens the session", async () => {
    const { port } = await startTestServer({ secret: SECRET });
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
    expect(hello).toMatchObject({ ok: true, type: "hello", auth: true });
    expect(hello.challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await c.request({ cmd: "auth", hmac: authAnswer(SECRET, hello.challenge as string) }),
    ).toMatchObject({
      ok: true,
      type: "ok",
    });
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
  });

  it("each connection gets a fresh challenge", async () => {
    const { port } = await startTestServer({ secret: SECRET });
    const seen = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const c = await RawClient.connect(port);
      seen.add((await c.request({ cmd: "hello", version: 1, client: "t" })).challenge);
      c.close();
    }
    expect(seen.size).toBe(3);
  });

  it("a wrong answer gets EAUTH and the connection closes", async () => {
    const { port } = await startTestServer({ secret: SECRET });
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
    const reply = await c.request({ cmd: "auth", hmac: authAnswer("guess", hello.challenge as string) });
    expect(reply).toMatchObject({ ok: false, code: "EAUTH" });
    await c.closed;
    await assertServes(port, SECRET);
  });

  it("an answer to another connection's challenge is refused (no replay)", async () => {
    const { port } = await startTestServer({ secret: SECRET });
    const a = await RawClient.connect(port);
    const helloA = await a.request({ cmd: "hello", version: 1, client: "t" });
    const b = await RawClient.connect(port);
    await b.request({ cmd: "hello", version: 1, client: "t" });
    expect(
      await b.request({ cmd: "auth", hmac: authAnswer(SECRET, helloA.challenge as string) }),
    ).toMatchObject({
      code: "EAUTH",
    });
    a.close();
  });

  it("a missing auth: any request is EAUTH and nothing is served", async () => {
    const { port } = await startTestServer({ secret: SECRET });
    for (const req of [
      { cmd: "list", path: "/" },
      { cmd: "put", path: "x", size: 1, handshake: true },
      { cmd: "get", path: "x" },
      { cmd: "bogus" },
    ]) {
      const c = await RawClient.connect(port);
      await c.request({ cmd: "hello", version: 1, client: "t" });
      expect(await c.request(req)).toMatchObject({ ok: false, code: "EAUTH" });
      await c.closed;
    }
    await assertServes(port, SECRET);
  });

  it("no secret: hello says auth false and the session is ready", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
    expect(hello).toMatchObject({ ok: true, auth: false });
    expect(hello.challenge).toBeUndefined();
    c.close();
  });

  it("never logs the secret", async () => {
    const lines: string[] = [];
    const logger = {
      log: (level: string, msg: string, fields?: object) =>
        lines.push(JSON.stringify({ level, msg, fields })),
    };
    const { port } = await startTestServer({ secret: SECRET, logger });
    await assertServes(port, SECRET);
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
    await c.request({ cmd: "auth", hmac: authAnswer("nope", hello.challenge as string) });
    await c.closed;
    expect(lines.some((l) => l.includes("auth failed"))).toBe(true);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("refuses a non-loopback host without a secret unless insecureNoAuth", async () => {
    const root = await tempDir();
    await expect(startServer({ root, host: "0.0.0.0", port: 0 })).rejects.toMatchObject({ code: "EAUTH" });
  });
});
