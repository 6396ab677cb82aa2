import { authAnswer } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { loggedIn, scramLogin, startAccountsServer } from "./helpers/accounts.js";
import { type Header, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";

const ALICE = { name: "alice", password: "correct horse" };
const BOB = { name: "bob", password: "battery staple" };

/** A server-first message's shape: salt length and iterations, without the random parts. */
function shape(serverFirst: Header): { salt: number; iterations: string } {
  const m = /^r=[^,]+,s=([^,]+),i=(\d+)$/.exec(String(serverFirst.scram));
  if (!m) throw new Error(`not a server-first message: ${JSON.stringify(serverFirst)}`);
  return { salt: Buffer.from(m[1] as string, "base64").length, iterations: m[2] as string };
}

describe("login with accounts (SCRAM-SHA-256)", () => {
  it("hello asks for scram-sha-256; the right password logs in and the server proves it knows the verifier", async () => {
    const { port } = await startAccountsServer([ALICE, BOB]);
    const t = await scramLogin(port, "alice", ALICE.password);
    expect(t.hello).toMatchObject({ ok: true, type: "hello", auth: "scram-sha-256" });
    expect(t.hello.challenge).toBeUndefined();
    expect(t.serverFirst).toMatchObject({ ok: true, type: "scram" });
    expect(t.serverFinal).toMatchObject({ ok: true, type: "scram", scram: expect.stringMatching(/^v=/) });
    expect(await t.client.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    t.client.close();
  });

  it("a wrong password and an unknown user get the same error, after server-first messages of the same shape", async () => {
    // No backoff at all: with 1 ms the third login could land inside it (refused unchecked), a race.
    const { port } = await startAccountsServer([ALICE, BOB], { authBackoffMs: 0, authBackoffMaxMs: 0 });
    const wrong = await scramLogin(port, "alice", "not it");
    const unknown = await scramLogin(port, "mallory", "anything");
    const unknownAgain = await scramLogin(port, "mallory", "anything else");
    for (const t of [wrong, unknown, unknownAgain]) {
      expect(t.serverFirst).toMatchObject({ ok: true, type: "scram" });
      expect(t.serverFinal).toEqual({
        ok: false,
        id: t.serverFinal?.id,
        code: "EAUTH",
        message: "wrong user or password",
      });
      await t.client.closed;
    }
    expect(shape(unknown.serverFirst)).toEqual(shape(wrong.serverFirst));
    // A decoy is stable: an unknown name gets the same salt every time, as a real user does.
    const salt = (h: Header) => /s=([^,]+)/.exec(String(h.scram))?.[1];
    expect(salt(unknownAgain.serverFirst)).toBe(salt(unknown.serverFirst));
    const right = await scramLogin(port, "alice", ALICE.password);
    expect(salt(right.serverFirst)).toBe(salt(wrong.serverFirst));
    right.client.close();
  });

  it("a proof that is only the StoredKey's shape, or a tampered nonce, is refused", async () => {
    const { port } = await startAccountsServer([ALICE]);
    const forged = await scramLogin(port, "alice", ALICE.password, {
      tamper: (m) => m.replace(/p=[^,]+$/, `p=${Buffer.alloc(32, 7).toString("base64")}`),
    });
    expect(forged.serverFinal).toMatchObject({ ok: false, code: "EAUTH" });
    const nonce = await scramLogin(port, "alice", ALICE.password, {
      tamper: (m) => m.replace(",r=", ",r=x"),
    });
    expect(nonce.serverFinal).toMatchObject({ ok: false, code: "EAUTH" });
  });

  it("failures against one user from many addresses put that user, known or not, in backoff; other users are not", async () => {
    const { port } = await startAccountsServer([ALICE, BOB], {
      authBackoffMs: 60_000,
      authBackoffMaxMs: 60_000,
    });
    for (const user of ["alice", "nobody"]) {
      // One failure per address: no address is in backoff, the user is after the second.
      for (const from of ["127.0.0.2", "127.0.0.3"]) {
        const t = await scramLogin(port, user, "guess", { localAddress: from });
        expect(t.serverFinal).toMatchObject({ code: "EAUTH" });
      }
      const third = await scramLogin(port, user, user === "alice" ? ALICE.password : "x", {
        localAddress: "127.0.0.4",
      });
      // Refused at client-first, unchecked: the right password does not get through either.
      expect(third.serverFirst).toMatchObject({ ok: false, code: "EBUSY" });
      expect(third.serverFinal).toBeUndefined();
    }
    const bob = await loggedIn(port, "bob", BOB.password);
    bob.close();
  });

  it("the shared secret's answer is refused by a server with accounts, and SCRAM by a server with a secret", async () => {
    const accounts = await startAccountsServer([ALICE]);
    const a = await RawClient.connect(accounts.port);
    await a.request({ cmd: "hello", version: 1, client: "t" });
    expect(await a.request({ cmd: "auth", hmac: "0".repeat(64) })).toMatchObject({
      ok: false,
      code: "EAUTH",
    });
    await a.closed;

    const secret = await startTestServer({ secret: "s3cret" });
    const b = await RawClient.connect(secret.port);
    const hello = await b.request({ cmd: "hello", version: 1, client: "t" });
    expect(hello).toMatchObject({ auth: true });
    expect(await b.request({ cmd: "auth", scram: "n,,n=alice,r=abcdefghijkl" })).toMatchObject({
      ok: false,
      code: "EAUTH",
    });
    await b.closed;
    // And the secret mode itself is as before.
    const c = await RawClient.connect(secret.port);
    const h = await c.request({ cmd: "hello", version: 1, client: "t" });
    expect(await c.request({ cmd: "auth", hmac: authAnswer("s3cret", h.challenge as string) })).toMatchObject(
      {
        ok: true,
        type: "ok",
      },
    );
    c.close();
  });

  it("nothing is served before the login ends, and a login cannot be started twice", async () => {
    const { port } = await startAccountsServer([ALICE]);
    const c = await RawClient.connect(port);
    await c.request({ cmd: "hello", version: 1, client: "t" });
    expect(await c.request({ cmd: "list", path: "/" })).toMatchObject({ ok: false, code: "EAUTH" });
    await c.closed;
    const d = await loggedIn(port, "alice", ALICE.password);
    expect(await d.request({ cmd: "auth", scram: "n,,n=alice,r=abcdefghijkl" })).toMatchObject({
      ok: false,
      code: "EPROTO",
    });
    expect(await d.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    d.close();
  });

  it("never logs a password", async () => {
    const lines: string[] = [];
    const logger = {
      log: (level: string, msg: string, fields?: object) =>
        lines.push(JSON.stringify({ level, msg, fields })),
    };
    const { port } = await startAccountsServer([ALICE], { logger });
    (await loggedIn(port, "alice", ALICE.password)).close();
    await (await scramLogin(port, "alice", "wrong-pass-word")).client.closed;
    expect(lines.some((l) => l.includes("auth ok") && l.includes("alice"))).toBe(true);
    expect(lines.some((l) => l.includes("auth failed"))).toBe(true);
    // A password typed where the user name goes is not a user name, and is not logged either.
    const c = await RawClient.connect(port);
    await c.request({ cmd: "hello", version: 1, client: "t" });
    const first = await c.request({ cmd: "auth", scram: "n,,n=hunter2 is my pw!,r=abcdefghijkl" });
    const nonce = /^r=([^,]+)/.exec(String(first.scram))?.[1];
    const proof = Buffer.alloc(32).toString("base64");
    expect(await c.request({ cmd: "auth", scram: `c=biws,r=${nonce},p=${proof}` })).toMatchObject({
      code: "EAUTH",
    });
    await c.closed;
    expect(lines.join("\n")).not.toContain(ALICE.password);
    expect(lines.join("\n")).not.toContain("wrong-pass-word");
    expect(lines.join("\n")).not.toContain("hunter2");
  });
});
