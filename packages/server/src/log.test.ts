import { afterEach, describe, expect, it, vi } from "vitest";
import { createStreamLogger, LOG_BURST_MAX_BYTES } from "./log.js";

describe("createStreamLogger to stderr", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("writes the lines of one event-loop turn in one write, in order, by the next turn", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const log = createStreamLogger({ format: "json" });
    for (let i = 0; i < 3; i++) log.log("info", "transfer", { i });
    log.log("debug", "dropped");
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    const lines = (writes[0] as string)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
  });

  it("does not hold more than LOG_BURST_MAX_BYTES before writing", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const log = createStreamLogger();
    const path = "x".repeat(1000);
    for (let i = 0; i * 1000 < 2 * LOG_BURST_MAX_BYTES; i++) log.log("info", "transfer", { path });
    expect(writes.length).toBeGreaterThanOrEqual(1);
    for (const w of writes) expect(w.length).toBeLessThan(LOG_BURST_MAX_BYTES + 2000);
    await new Promise((resolve) => setImmediate(resolve)); // the rest, while stderr is still the spy
  });
});
