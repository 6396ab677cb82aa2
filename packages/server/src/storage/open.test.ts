import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { localPathOf, openStorage, Storages, storageConfigOf, storageKey } from "./open.js";

const config = () =>
  storageConfigOf({
    fsync: false,
    hashThread: false,
    stalePartialMs: 3600_000,
    maxListMemory: 1024 * 1024,
    maxListEntries: 1000,
  });

describe("openStorage(spec): the one place that knows the backends", () => {
  it("reads a plain path, file:PATH and file:///PATH as the local backend", () => {
    expect(localPathOf("/srv/a")).toBe("/srv/a");
    expect(localPathOf("file:/srv/a")).toBe("/srv/a");
    expect(localPathOf("file:///srv/a%20b")).toBe("/srv/a b");
    expect(localPathOf("s3://bucket/prefix")).toBeNull();
    expect(storageKey("file:/srv/a/../a")).toBe("/srv/a");
  });

  it("refuses a scheme it does not know, with a FerryError", async () => {
    await expect(openStorage("ftp://host/x", false, config())).rejects.toMatchObject({ code: "EINTERNAL" });
  });

  it("two spellings of one directory are one storage", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ferry-open-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const storages = new Storages(config());
    onTestFinished(() => storages.closeAll());
    const a = await storages.open(dir, true);
    const b = await storages.open(`file:${dir}/.`, false);
    expect(b).toBe(a);
    expect(storages.all).toHaveLength(1);
  });
});
