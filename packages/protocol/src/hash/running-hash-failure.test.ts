import { afterEach, describe, expect, it, vi } from "vitest";

// hash-wasm itself stands in for a machine where it cannot load (a broken install): the thing under
// test is what a running hash does when its hasher cannot be made.
describe("a running xxh128 whose hasher cannot be made", () => {
  afterEach(() => {
    vi.doUnmock("hash-wasm");
    vi.resetModules();
  });

  it("fails the transfer that waits for it with EINTERNAL, and leaves no unhandled rejection", async () => {
    vi.resetModules();
    vi.doMock("hash-wasm", () => ({
      createXXHash128: () => Promise.reject(new Error("wasm instantiation failed")),
    }));
    const { createRunningHash } = await import("./running-hash.js");
    const hash = createRunningHash(10, null, "xxh128");
    // Nobody awaits the hash for a while: the failure must wait for them, not escape.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hash.update(new Uint8Array(10))).toBe(false);
    await expect(hash.whenWritable()).rejects.toMatchObject({
      code: "EINTERNAL",
      message: expect.stringContaining("wasm instantiation failed"),
    });
    await expect(hash.digest()).rejects.toMatchObject({ code: "EINTERNAL" });
  });
});
