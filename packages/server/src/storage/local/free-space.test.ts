import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { FreeSpace, SPACE_CACHE_MAX_BYTES, SPACE_TTL_MS } from "./free-space.js";

const MiB = 1024 * 1024;

/**
 * A disk we can write to by hand: `free` is what statfs would report, `statfs` counts how often it
 * was asked, and the clock only moves when told.
 */
function fakeDisk(free: number) {
  const disk = { free, statfs: 0, clock: 1_000_000 };
  const space = new FreeSpace("/unused", {
    freeBytes: async () => {
      disk.statfs++;
      return disk.free;
    },
    now: () => disk.clock,
  });
  return { disk, space };
}

describe("FreeSpace reservations", () => {
  it("a second reservation that does not fit beside the first is ENOSPC; releasing the first lets it in", async () => {
    const { space } = fakeDisk(100 * MiB);
    const a = await space.reserve(60 * MiB);
    await expect(space.reserve(60 * MiB)).rejects.toMatchObject({
      code: "ENOSPC",
      details: { needed: 60 * MiB, free: 40 * MiB, reserved: 60 * MiB },
    });
    expect(space.reserved).toBe(60 * MiB);
    a.release();
    expect(space.reserved).toBe(0);
    await space.reserve(60 * MiB);
  });

  it("ends once: a second release or a release after commit frees nothing more", async () => {
    const { space } = fakeDisk(100 * MiB);
    const a = await space.reserve(30 * MiB);
    const b = await space.reserve(30 * MiB);
    a.release();
    a.release();
    a.commit();
    b.commit();
    b.release();
    expect(space.reserved).toBe(0);
    // Had the extra calls counted, there would now be room for more than the disk has.
    const c = await space.reserve(100 * MiB);
    await expect(space.reserve(1)).rejects.toMatchObject({ code: "ENOSPC" });
    c.release();
  });

  it("bytes written leave the reservation for the disk's own figure: never counted twice", async () => {
    const { disk, space } = fakeDisk(100 * MiB);
    const a = await space.reserve(60 * MiB);
    disk.free -= 50 * MiB;
    a.wrote(50 * MiB);
    // 40 MiB are really left once `a` is done (50 free now, 10 still to come from `a`).
    const b = await space.reserve(40 * MiB);
    await expect(space.reserve(1)).rejects.toMatchObject({ code: "ENOSPC" });
    a.commit();
    b.release();
    expect(space.reserved).toBe(0);
  });

  it("small reservations share one statfs within the TTL, and still see what was committed since", async () => {
    const { disk, space } = fakeDisk(4 * MiB);
    const small = SPACE_CACHE_MAX_BYTES;
    for (let i = 0; i < 3; i++) {
      const r = await space.reserve(small);
      disk.free -= small; // staged and committed, as a small put does: no `wrote`, the commit says it
      r.commit();
    }
    expect(disk.statfs).toBe(1);
    // The cached figure (4 MiB) is stale by 3 MiB; the ledger knows it, so only 1 MiB is offered.
    const last = await space.reserve(small);
    expect(disk.statfs).toBe(1);
    await expect(space.reserve(1)).rejects.toMatchObject({ code: "ENOSPC" });
    expect(disk.statfs).toBe(2); // a refusal is never made on a cached figure alone
    last.release();
  });

  it("a stale figure is measured again; a big reservation always is", async () => {
    const { disk, space } = fakeDisk(100 * MiB);
    (await space.reserve(1)).release();
    expect(disk.statfs).toBe(1);
    disk.clock += SPACE_TTL_MS + 1;
    (await space.reserve(1)).release();
    expect(disk.statfs).toBe(2);
    (await space.reserve(SPACE_CACHE_MAX_BYTES + 1)).release();
    expect(disk.statfs).toBe(3);
    disk.free = 0; // something outside ferryd filled the disk
    await expect(space.reserve(SPACE_CACHE_MAX_BYTES + 1)).rejects.toMatchObject({ code: "ENOSPC" });
  });

  it("concurrent reservations waiting on one statfs each see the others", async () => {
    const { space } = fakeDisk(100 * MiB);
    const results = await Promise.allSettled([1, 2, 3].map(() => space.reserve(40 * MiB)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(space.reserved).toBe(80 * MiB);
  });

  it("nothing to reserve is admitted on a full disk", async () => {
    const { disk, space } = fakeDisk(0);
    const r = await space.reserve(0);
    r.commit();
    expect(disk.statfs).toBe(0);
    expect(space.reserved).toBe(0);
  });

  it("asks the real disk by default", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ferryd-space-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const space = new FreeSpace(dir);
    (await space.reserve(1)).release();
    await expect(space.reserve(Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({ code: "ENOSPC" });
  });
});
