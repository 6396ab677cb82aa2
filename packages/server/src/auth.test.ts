import { authAnswer } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { AUTH_BACKOFF_MAX_MS, AUTH_FORGET_AFTER_MS, AuthBackoff, checkAnswer, newChallenge } from "./auth.js";

describe("auth", () => {
  it("accepts the right HMAC and nothing else", () => {
    const challenge = newChallenge();
    expect(challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(newChallenge()).not.toBe(challenge);
    expect(checkAnswer("s3cret", challenge, authAnswer("s3cret", challenge))).toBe(true);
    expect(checkAnswer("s3cret", challenge, authAnswer("wrong", challenge))).toBe(false);
    expect(checkAnswer("s3cret", challenge, authAnswer("s3cret", newChallenge()))).toBe(false);
    expect(checkAnswer("s3cret", challenge, "")).toBe(false);
  });

  it("backs off repeated failures per address, and forgets on success or after a while", () => {
    const b = new AuthBackoff();
    const t = 1_000_000;
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => b.fail("1.2.3.4", t + i));
    expect(delays[0]).toBe(0);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1] as number);
    expect(b.fail("1.2.3.4", t + 10)).toBe(AUTH_BACKOFF_MAX_MS);
    expect(b.fail("5.6.7.8", t + 10)).toBe(0);
    b.succeed("1.2.3.4");
    expect(b.fail("1.2.3.4", t + 20)).toBe(0);
    expect(b.fail("1.2.3.4", t + 30)).toBeGreaterThan(0);
    expect(b.fail("1.2.3.4", t + 30 + AUTH_FORGET_AFTER_MS + 1)).toBe(0);
  });

  it("an address in backoff waits until its backoff ends, whatever other addresses do", () => {
    const b = new AuthBackoff({ baseMs: 1_000, maxMs: 4_000 });
    const t = 1_000_000;
    expect(b.waitMs("a", t)).toBe(0);
    b.fail("a", t);
    expect(b.waitMs("a", t)).toBe(0); // a typo costs nothing
    b.fail("a", t);
    expect(b.waitMs("a", t)).toBe(1_000);
    expect(b.waitMs("a", t + 400)).toBe(600);
    expect(b.waitMs("b", t)).toBe(0);
    b.fail("b", t);
    b.fail("b", t);
    b.succeed("b"); // another address's success leaves "a" as it was
    expect(b.waitMs("a", t + 400)).toBe(600);
    expect(b.waitMs("b", t + 400)).toBe(0);
    expect(b.waitMs("a", t + 1_000)).toBe(0);
    b.fail("a", t + 1_000);
    expect(b.waitMs("a", t + 1_000)).toBe(2_000);
    for (let i = 0; i < 10; i++) b.fail("a", t + 10_000 * (i + 1));
    expect(b.waitMs("a", t + 100_000)).toBe(4_000);
  });

  it("remembers at most maxAddresses, forgetting the one that failed longest ago", () => {
    const b = new AuthBackoff({ baseMs: 1_000, maxAddresses: 100 });
    const t = 1_000_000;
    b.fail("victim", t);
    b.fail("victim", t);
    for (let i = 0; i < 1_000; i++) b.fail(`10.0.${i >> 8}.${i & 255}`, t + 1);
    expect(b.size).toBe(100);
    expect(b.waitMs("victim", t + 2)).toBe(0); // pushed out by the flood
    // A failure moves an address to the back: it outlives the flood that follows it.
    b.fail("kept", t + 2);
    b.fail("kept", t + 2);
    for (let i = 0; i < 99; i++) b.fail(`10.1.0.${i}`, t + 3);
    expect(b.waitMs("kept", t + 3)).toBeGreaterThan(0);
  });
});
