import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type ChannelBinding,
  channelBindingOf,
  checkClientFinal,
  formatVerifier,
  makeVerifier,
  normalizePassword,
  parseClientFirst,
  parseVerifier,
  ScramClient,
  type ScramVerifier,
  serverFirstMessage,
  TLS_EXPORTER_LABEL,
} from "./scram.js";

/** RFC 7677 §3: user "user", password "pencil", 4096 iterations. */
const RFC = {
  clientNonce: "rOprNGfwEbeRWgbNEkqO",
  serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  salt: Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"),
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal:
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

const binding = (byte: number): ChannelBinding => ({ type: "tls-exporter", data: Buffer.alloc(32, byte) });

/** One whole exchange: what the server answers to the client's final message. */
async function login(
  client: ScramClient,
  verifier: ScramVerifier,
  serverBinding: ChannelBinding | null,
  tamper: (clientFinal: string) => string = (m) => m,
) {
  const first = parseClientFirst(client.first, serverBinding);
  const serverFirst = serverFirstMessage(first, verifier);
  const clientFinal = tamper(await client.final(serverFirst));
  return { first, check: checkClientFinal(first, serverFirst, clientFinal, verifier, serverBinding) };
}

describe("SCRAM-SHA-256", () => {
  it("the client side reproduces RFC 7677's example exchange and accepts its server signature", async () => {
    const client = new ScramClient("user", "pencil", null, RFC.clientNonce);
    expect(client.first).toBe(RFC.clientFirst);
    expect(await client.final(RFC.serverFirst)).toBe(RFC.clientFinal);
    expect(() => client.verifyServer(RFC.serverFinal)).not.toThrow();
  });

  it("the server side, from a verifier alone, reproduces RFC 7677's server-first and server-final", async () => {
    const verifier = await makeVerifier("pencil", 4096, RFC.salt);
    const first = parseClientFirst(RFC.clientFirst, null);
    expect(first).toMatchObject({ user: "user", nonce: RFC.clientNonce, gs2Header: "n,," });
    const serverFirst = serverFirstMessage(first, verifier, RFC.serverNonce);
    expect(serverFirst).toBe(RFC.serverFirst);
    expect(checkClientFinal(first, serverFirst, RFC.clientFinal, verifier, null)).toEqual({
      ok: true,
      serverFinal: RFC.serverFinal,
    });
  });

  it("a verifier survives its text form, which holds neither the password nor a key that logs in", async () => {
    const verifier = await makeVerifier("pencil", 4096, RFC.salt);
    const text = formatVerifier(verifier);
    expect(text).toMatch(
      /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/,
    );
    expect(text).not.toContain("pencil");
    expect(parseVerifier(text)).toEqual(verifier);
    // StoredKey is H(ClientKey): sending it (or ServerKey) as the proof does not log in.
    for (const key of [verifier.storedKey, verifier.serverKey]) {
      const first = parseClientFirst(RFC.clientFirst, null);
      const serverFirst = serverFirstMessage(first, verifier, RFC.serverNonce);
      const forged = `c=biws,r=${RFC.clientNonce}${RFC.serverNonce},p=${key.toString("base64")}`;
      expect(checkClientFinal(first, serverFirst, forged, verifier, null).ok).toBe(false);
    }
    for (const bad of ["SCRAM-SHA-256$4095:AAAA$x:y", "plain", `${text}:extra`, text.replace("$4096", "$")]) {
      expect(() => parseVerifier(bad), bad).toThrow();
    }
  });

  it("a wrong password fails the server's check; a wrong server signature fails the client's", async () => {
    const verifier = await makeVerifier("pencil", 4096);
    expect((await login(new ScramClient("user", "pencil", null), verifier, null)).check.ok).toBe(true);
    expect((await login(new ScramClient("user", "pencil!", null), verifier, null)).check).toMatchObject({
      ok: false,
    });
    const client = new ScramClient("user", "pencil", null, RFC.clientNonce);
    await client.final(RFC.serverFirst);
    const wrong = `v=${Buffer.alloc(32).toString("base64")}`;
    expect(() => client.verifyServer(wrong)).toThrow(expect.objectContaining({ code: "EAUTH" }));
    expect(() => client.verifyServer("e=invalid-proof")).toThrow(expect.objectContaining({ code: "EAUTH" }));
  });

  it("binds to the channel: a client-final computed on another connection's binding is refused", async () => {
    const verifier = await makeVerifier("pencil", 4096);
    // Same binding on both ends: accepted.
    expect((await login(new ScramClient("user", "pencil", binding(1)), verifier, binding(1))).check.ok).toBe(
      true,
    );
    // A relay: the client's leg and the server's leg are two TLS connections with two bindings.
    const relayed = await login(new ScramClient("user", "pencil", binding(1)), verifier, binding(2));
    expect(relayed.check).toMatchObject({ ok: false, reason: expect.stringMatching(/channel binding/) });
    // Rewriting c= to the server's binding breaks the proof, which covers it.
    const rewritten = await login(new ScramClient("user", "pencil", binding(1)), verifier, binding(2), (m) =>
      m.replace(
        /^c=[^,]*/,
        `c=${Buffer.concat([Buffer.from("p=tls-exporter,,"), binding(2).data]).toString("base64")}`,
      ),
    );
    expect(rewritten.check).toMatchObject({ ok: false, reason: "wrong proof" });
  });

  it("refuses an unbound login on TLS (downgrade) and a bound one without TLS", () => {
    expect(() => parseClientFirst("n,,n=user,r=abcdefgh12", binding(1))).toThrow(/must be bound/);
    expect(() => parseClientFirst("y,,n=user,r=abcdefgh12", binding(1))).toThrow(/must be bound/);
    expect(() => parseClientFirst("p=tls-exporter,,n=user,r=abcdefgh12", null)).toThrow(/without TLS/);
    expect(() => parseClientFirst("p=tls-unique,,n=user,r=abcdefgh12", binding(1))).toThrow(/not supported/);
    expect(() => parseClientFirst("n,a=admin,n=user,r=abcdefgh12", null)).toThrow(/authorization/);
    expect(() => parseClientFirst("n,,m=ext,n=user,r=abcdefgh12", null)).toThrow(/mandatory/);
    for (const bad of [
      "",
      "n,,",
      "n,,r=x,n=user",
      "n,,n=user,r=short",
      "x,,n=user,r=abcdefgh12",
      "n,,n=u,r=a,b",
    ]) {
      expect(() => parseClientFirst(bad, null), bad).toThrow();
    }
  });

  it("a client-final answering another exchange's server nonce is refused (no replay)", async () => {
    const verifier = await makeVerifier("pencil", 4096);
    const client = new ScramClient("user", "pencil", null, RFC.clientNonce);
    const first = parseClientFirst(client.first, null);
    const old = serverFirstMessage(first, verifier);
    const replayed = await client.final(old);
    const fresh = serverFirstMessage(first, verifier);
    expect(checkClientFinal(first, fresh, replayed, verifier, null).ok).toBe(false);
  });

  it("the client refuses a server that does not extend its nonce or asks too few or too many iterations", async () => {
    const salt = RFC.salt.toString("base64");
    for (const serverFirst of [
      `r=someoneelse123,s=${salt},i=4096`,
      `r=${RFC.clientNonce},s=${salt},i=4096`,
      `r=${RFC.clientNonce}xyz,s=${salt},i=4095`,
      `r=${RFC.clientNonce}xyz,s=${salt},i=99999999999`,
      `r=${RFC.clientNonce}xyz,s=,i=4096`,
      `m=x,r=${RFC.clientNonce}xyz,s=${salt},i=4096`,
    ]) {
      const client = new ScramClient("user", "pencil", null, RFC.clientNonce);
      await expect(client.final(serverFirst), serverFirst).rejects.toThrow();
    }
  });

  it("restricts user names and normalises passwords (NFKC, no control characters)", () => {
    for (const bad of ["", "a,b", "a=b", "al ice", "alice@host", "-x", "é", "a".repeat(65)]) {
      expect(() => new ScramClient(bad, "pw", null), bad).toThrow(expect.objectContaining({ code: "EAUTH" }));
    }
    expect(normalizePassword("\u2168")).toBe("IX");
    expect(() => normalizePassword("a\nb")).toThrow();
    expect(() => normalizePassword("")).toThrow();
  });

  it("channelBindingOf uses the socket's tls-exporter keying material, and null for a plain socket", () => {
    const calls: unknown[][] = [];
    const data = randomBytes(32);
    const tlsLike = {
      exportKeyingMaterial: (...args: unknown[]) => {
        calls.push(args);
        return data;
      },
    };
    expect(channelBindingOf(tlsLike)).toEqual({ type: "tls-exporter", data });
    expect(calls).toEqual([[32, TLS_EXPORTER_LABEL, Buffer.alloc(0)]]);
    expect(channelBindingOf({})).toBeNull();
  });
});
