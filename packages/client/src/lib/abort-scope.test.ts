import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AbortScope } from "./abort-scope.js";
import type { Connection } from "./connection.js";

// The connection is only told to fail when an aborted transfer was on the wire.
function connection(): { conn: Connection; failures: unknown[] } {
  const failures: unknown[] = [];
  return { conn: { fail: (err: unknown) => failures.push(err) } as unknown as Connection, failures };
}

describe("AbortScope", () => {
  it("puts one listener on a signal however many transfers share it, and tells each that is left", async () => {
    const ctl = new AbortController();
    const { conn, failures } = connection();
    const scopes = Array.from({ length: 1000 }, () => new AbortScope(ctl.signal, conn));
    expect(getEventListeners(ctl.signal, "abort")).toHaveLength(1);
    const waiting = scopes.map((s) =>
      s.race(new Promise(() => {})).then(
        () => "settled",
        (e: { code: string }) => e.code,
      ),
    );
    for (const s of scopes.slice(0, 500)) s.dispose();
    scopes[600]?.goOnWire();
    ctl.abort();
    const codes = await Promise.race([
      Promise.all(waiting.slice(500)),
      new Promise((resolve) => setTimeout(() => resolve("timeout"), 1000)),
    ]);
    expect(codes).toEqual(Array(500).fill("EABORTED"));
    expect(failures).toHaveLength(1); // the one on the wire broke the connection
    expect(scopes.every((s) => s.aborted)).toBe(true);
  });

  it("tells a disposed transfer nothing", async () => {
    const ctl = new AbortController();
    const { conn, failures } = connection();
    const scope = new AbortScope(ctl.signal, conn);
    scope.goOnWire();
    scope.dispose();
    ctl.abort();
    expect(failures).toHaveLength(0);
  });
});
