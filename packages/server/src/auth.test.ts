import { authAnswer } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { AuthBackoff, checkAnswer, newChallenge } from "./auth.js";

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
    expect(b.fail("1.2.3.4", t + 10)).toBeLessThanOrEqual(5_000);
    expect(b.fail("5.6.7.8", t + 10)).toBe(0);
    b.succeed("1.2.3.4");
    expect(b.fail("1.2.3.4", t + 20)).toBe(0);
    expect(b.fail("1.2.3.4", t + 30)).toBeGreaterThan(0);
    expect(b.fail("1.2.3.4", t + 30 + 16 * 60_000)).toBe(0);
  });
});
