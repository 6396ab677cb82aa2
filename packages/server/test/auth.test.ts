import { readdir } from "node:fs/promises";
import { authAnswer } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { startServer } from "../src/index.js";
import { type Header, RawClient } from "./helpers/raw-client.js";
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

  it("early requests behind the hello (PROTOCOL.md §5): with a secret the first is EAUTH, none is done", async () => {
    const { port, root } = await startTestServer({ secret: SECRET });
    const c = await RawClient.connect(port);
    // One write: the hello and what follows it leave before the hello's answer can be read.
    const hello = c.send({ cmd: "hello", version: 1, client: "t" });
    const mkdir = c.send({ cmd: "mkdir", path: "/made", parents: false });
    c.send({ cmd: "put", path: "/early.txt", size: 5, md5: "2c1743a391305fbf367df8e4f069f9f9" });
    expect(await c.reply()).toMatchObject({ ok: true, id: hello, type: "hello", auth: true });
    expect(await c.reply()).toMatchObject({ ok: false, id: mkdir, code: "EAUTH" });
    await c.closed;
    expect((await readdir(root)).filter((n) => !n.startsWith(".ferry-"))).toEqual([]);
    await assertServes(port, SECRET);
  });

  it("early requests behind the hello of a server without a secret are handled in order", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.connect(port);
    const hello = c.send({ cmd: "hello", version: 1, client: "t" });
    const mkdir = c.send({ cmd: "mkdir", path: "/made", parents: false });
    const stat = c.send({ cmd: "stat", path: "/made" });
    expect(await c.reply()).toMatchObject({ ok: true, id: hello, auth: false });
    expect(await c.reply()).toMatchObject({ ok: true, id: mkdir, type: "ok" });
    expect(await c.reply()).toMatchObject({ ok: true, id: stat, type: "entry", entry: { type: "dir" } });
    expect(await readdir(root)).toContain("made");
    c.close();
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

  it("an address in backoff gets EBUSY on every parallel attempt, unchecked; the right secret works once it has passed", async () => {
    const BACKOFF_MS = 1_000;
    const K = 20;
    const events: { msg: string; fields?: Header }[] = [];
    const logger = { log: (_level: string, msg: string, fields?: Header) => events.push({ msg, fields }) };
    const { port } = await startTestServer({
      secret: SECRET,
      logger,
      authBackoffMs: BACKOFF_MS,
      authBackoffMaxMs: BACKOFF_MS,
      maxPerIp: 4 * K,
    });
    const hello = { cmd: "hello", version: 1, client: "t" };
    /** Wrong answers the server actually checked. */
    const checked = () =>
      events.filter((e) => e.msg === "auth failed" && e.fields?.reason === "wrong").length;

    // Set up before any failure, so the burst below is only frames: K connections holding a
    // challenge, K more connected and silent.
    const holding = await Promise.all(
      Array.from({ length: K }, async () => {
        const c = await RawClient.connect(port);
        const h = await c.request(hello);
        expect(h).toMatchObject({ ok: true, auth: true });
        return { c, challenge: h.challenge as string };
      }),
    );
    const fresh = await Promise.all(Array.from({ length: K }, () => RawClient.connect(port)));

    // Two wrong answers in a row: the first is free, the second starts the backoff (at its cap).
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(port);
      const h = await c.request(hello);
      expect(
        await c.request({ cmd: "auth", hmac: authAnswer("guess", h.challenge as string) }),
      ).toMatchObject({
        code: "EAUTH",
      });
      await c.closed;
    }
    expect(checked()).toBe(2);

    // All at once: K more guesses and K new hellos from the same address.
    const guesses = holding.map(({ c, challenge }) => {
      const id = c.send({ cmd: "auth", hmac: authAnswer("guess", challenge) });
      return c.reply().then((r) => ({ r, id }));
    });
    const hellos = fresh.map((c) => {
      const id = c.send(hello);
      return c.reply().then((r) => ({ r, id }));
    });
    const replies = await Promise.all([...guesses, ...hellos]);
    for (const { r, id } of replies) {
      expect(r).toMatchObject({ ok: false, id });
      expect(["EBUSY", "EAUTH"]).toContain(r.code);
    }
    // At most one guess per backoff period: none, or one if the period ended during the burst.
    const busy = replies.filter(({ r }) => r.code === "EBUSY").length;
    expect(busy).toBeGreaterThanOrEqual(2 * K - 1);
    expect(checked()).toBeLessThanOrEqual(3);
    await Promise.all([...holding.map(({ c }) => c.closed), ...fresh.map((c) => c.closed)]);

    // Another address is not in backoff, and its success leaves 127.0.0.1's state alone.
    const other = await RawClient.connect(port, "127.0.0.1", undefined, "127.0.0.2");
    const h2 = await other.request(hello);
    expect(h2).toMatchObject({ ok: true, auth: true });
    expect(
      await other.request({ cmd: "auth", hmac: authAnswer(SECRET, h2.challenge as string) }),
    ).toMatchObject({
      ok: true,
    });
    other.close();

    // Once the backoff has passed, the right secret works; until then every attempt is EBUSY.
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      const c = await RawClient.connect(port);
      const h = await c.request(hello);
      if (h.ok === true) {
        expect(
          await c.request({ cmd: "auth", hmac: authAnswer(SECRET, h.challenge as string) }),
        ).toMatchObject({
          ok: true,
          type: "ok",
        });
        ok = true;
      } else {
        expect(h).toMatchObject({ ok: false, code: "EBUSY" });
        await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS / 10));
      }
      c.close();
    }
    expect(ok).toBe(true);
    expect(checked()).toBeLessThanOrEqual(3);
  });

  it("refuses a non-loopback host without a secret unless insecureNoAuth", async () => {
    const root = await tempDir();
    await expect(startServer({ root, host: "0.0.0.0", port: 0 })).rejects.toMatchObject({ code: "EAUTH" });
  });
});
