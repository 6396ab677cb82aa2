import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Io } from "../io.js";
import { HELD_LINES_MAX, HELD_LINES_MS, Reporter } from "./reporter.js";

/** An Io that keeps every write, in order, as [stream, text]. */
function recordingIo(): { io: Io; writes: [string, string][] } {
  const writes: [string, string][] = [];
  const io: Io = {
    out: (line) => writes.push(["out", line]),
    err: (line) => writes.push(["err", line]),
    json: (value) => writes.push(["json", JSON.stringify(value)]),
    stdout: process.stdout,
  };
  return { io, writes };
}

const summary = (n: number) => ({
  op: "get" as const,
  from: `/f${n}`,
  to: `f${n}`,
  size: 1,
  alg: "md5" as const,
  hash: "0".repeat(32),
  transferred: 1,
  resumedFrom: 0,
  seconds: 0.001,
});

describe("Reporter.holdLines", () => {
  it("writes the result lines that come within HELD_LINES_MS in one write, in order", async () => {
    const { io, writes } = recordingIo();
    const r = new Reporter(io, { bars: false, json: false });
    r.holdLines();
    r.done(summary(0));
    await sleep(0);
    for (let i = 1; i < 3; i++) r.done(summary(i));
    expect(writes).toEqual([]);
    // Bounded by count: the timer's write comes, however slow the machine.
    for (let i = 0; i < 100 && writes.length === 0; i++) await sleep(HELD_LINES_MS);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.[1].split("\n").map((l) => l.split(" ")[1])).toEqual(["/f0", "/f1", "/f2"]);
  });

  it("writes what it holds before a note on stderr, at close, and at HELD_LINES_MAX lines", () => {
    const { io, writes } = recordingIo();
    const r = new Reporter(io, { bars: false, json: true });
    r.holdLines();
    r.done(summary(0));
    r.note("a failure");
    r.done(summary(1));
    r.close();
    expect(writes.map(([stream, text]) => [stream, text.split("\n").length])).toEqual([
      ["out", 1],
      ["err", 1],
      ["out", 1],
    ]);
    expect(JSON.parse(writes[2]?.[1] ?? "")).toMatchObject({ kind: "transfer", from: "/f1" });

    writes.length = 0;
    const s = new Reporter(io, { bars: false, json: false });
    s.holdLines();
    for (let i = 0; i < HELD_LINES_MAX + 1; i++) s.done(summary(i));
    expect(writes.map(([, text]) => text.split("\n").length)).toEqual([HELD_LINES_MAX]);
    s.close();
    expect(writes).toHaveLength(2);
  });
});
