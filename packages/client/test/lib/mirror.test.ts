import { mkdir, readdir, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type FerrySession,
  type MirrorHooks,
  type MirrorOptions,
  mirror,
  connect as openSession,
} from "../../src/lib/index.js";
import { hostileServer } from "../cli/hostile-server.js";
import {
  MiB,
  rejection,
  session,
  tempDir,
  testProxy,
  testServer,
  waitForServerPartial,
  writeRandomFile,
} from "./helpers.js";
import { PAST, readTree, writeTree } from "./mirror-helpers.js";

// Plain TCP on loopback: these tests are about mirroring, not about the transport.
const plain = { tls: false as const };

async function setup(serverOptions: Parameters<typeof testServer>[0] = {}) {
  const server = await testServer({ tls: false, ...serverOptions });
  const s = await session(server, plain);
  const local = await tempDir("ferry-mirror-local-");
  return { server, s, local };
}

const SPEC = {
  "top.txt": "top\n",
  "empty.bin": "",
  "sub/": "",
  "sub/one.txt": "one\n",
  "sub/deeper/two.bin": 70_000,
  "sub/deeper/empty-dir/": "",
  "big.bin": 3 * 1024 * 1024,
  "名前 🚢.txt": "unicode\n",
};

const up = (local: string, remote: string, more: Partial<MirrorOptions> = {}): MirrorOptions => ({
  direction: "upload",
  local,
  remote,
  ...more,
});
const down = (remote: string, local: string, more: Partial<MirrorOptions> = {}): MirrorOptions => ({
  direction: "download",
  local,
  remote,
  ...more,
});

/** Hooks that record what happened, in order. */
function recorder(): { hooks: MirrorHooks; events: string[] } {
  const events: string[] = [];
  return {
    events,
    hooks: {
      onNote: (n) => events.push(`note ${n.path}: ${n.message}`),
      onMkdir: (p) => events.push(`mkdir ${p}`),
      onTransferDone: (t) => events.push(`done ${t.path}`),
      onTransferFailed: (t, e) => events.push(`failed ${t.path} ${e.code}`),
      onDelete: (d) => events.push(`delete ${d.path}`),
    },
  };
}

describe("mirror: round trip", () => {
  it("up into a new remote folder and back into a fresh local one: same names, bytes, mtimes; again: nothing", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, SPEC);
    const sent = await mirror(s, up(local, "/site"));
    expect(sent.plan.mkdirs).toEqual(["sub", "sub/deeper", "sub/deeper/empty-dir"]);
    expect(sent.transferred).toHaveLength(6);
    expect(await readTree(join(server.root, "site"))).toEqual(await readTree(local));

    const again = await mirror(s, up(local, "/site"));
    expect(again.transferred).toEqual([]);
    expect(again.bytes).toBe(0);
    expect(again.plan.unchanged).toBe(6);

    const back = await tempDir("ferry-mirror-back-");
    const fetched = await mirror(s, down("/site", join(back, "copy")));
    expect(fetched.transferred).toHaveLength(6);
    expect(await readTree(join(back, "copy"))).toEqual(await readTree(local));
    const none = await mirror(s, down("/site", join(back, "copy")));
    expect(none.transferred).toEqual([]);
    expect(none.bytes).toBe(0);
  });

  it("a changed file goes again, and only that one", async () => {
    const { s, local } = await setup();
    await writeTree(local, SPEC);
    await mirror(s, up(local, "site"));
    await writeFile(join(local, "sub/one.txt"), "one, changed\n");
    const r = await mirror(s, up(local, "site"));
    expect(r.transferred.map((t) => t.local)).toEqual([join(local, "sub/one.txt")]);
    expect(r.plan.transfers[0]?.reason).toBe("size");
    // Same size, only the mtime moved: still sent (size + mtime is the default comparison).
    await utimes(join(local, "top.txt"), PAST / 1000 + 5, PAST / 1000 + 5);
    expect((await mirror(s, up(local, "site"))).plan.transfers.map((t) => [t.path, t.reason])).toEqual([
      ["top.txt", "mtime"],
    ]);
  });

  it("deletes what the source lost only with delete, and only after every transfer", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, SPEC);
    await mirror(s, up(local, "site"));
    await rm(join(local, "sub/deeper"), { recursive: true });
    await rm(join(local, "top.txt"));
    await writeFile(join(local, "new-1.txt"), "new");
    await writeFile(join(local, "new-2.txt"), "newer");

    const kept = await mirror(s, up(local, "site"));
    expect(kept.deleted).toBe(0);
    expect(await readdir(join(server.root, "site"))).toContain("top.txt");
    await writeFile(join(local, "new-3.txt"), "newest");
    await writeFile(join(local, "new-4.txt"), "newest yet");

    const { hooks, events } = recorder();
    const r = await mirror(s, up(local, "site", { delete: true }), hooks);
    expect(r.plan.deletes.map((d) => d.path)).toEqual([
      "sub/deeper/empty-dir",
      "sub/deeper/two.bin",
      "sub/deeper",
      "top.txt",
    ]);
    expect(r.deleted).toBe(4);
    const lastDone = Math.max(...events.flatMap((e, i) => (e.startsWith("done ") ? [i] : [])));
    const firstDelete = events.findIndex((e) => e.startsWith("delete "));
    expect(events.filter((e) => e.startsWith("done "))).toHaveLength(2);
    expect(firstDelete).toBeGreaterThan(lastDone);
    expect(await readTree(join(server.root, "site"))).toEqual(await readTree(local));
  });

  it("a failed transfer means nothing is deleted, and the run says which failed", async () => {
    const { server, s, local } = await setup({ maxFileSize: 1024 * 1024 });
    await writeTree(local, { "a.txt": "a", "b.txt": "b" });
    await mirror(s, up(local, "site"));
    await writeTree(local, { "huge.bin": 2 * 1024 * 1024 });
    await rm(join(local, "a.txt"));
    const { hooks, events } = recorder();
    const err = await rejection(mirror(s, up(local, "site", { delete: true }), hooks));
    expect(err.code).toBe("ETOOBIG");
    expect(err.details?.failed).toEqual([{ path: "huge.bin", code: "ETOOBIG" }]);
    expect(events.some((e) => e.startsWith("delete"))).toBe(false);
    expect((await readdir(join(server.root, "site"))).sort()).toEqual(["a.txt", "b.txt"]);
  });

  it("max-delete refuses before anything is transferred or deleted; within it the run goes ahead", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, { "a/": "", "a/1": "1", "a/2": "2", "a/3": "3", b: "b" });
    await mirror(s, up(local, "site"));
    await rm(join(local, "a"), { recursive: true });
    await writeFile(join(local, "c"), "c");
    const before = await readTree(join(server.root, "site"));
    const { hooks, events } = recorder();
    const err = await rejection(mirror(s, up(local, "site", { delete: true, maxDelete: 3 }), hooks));
    expect(err.code).toBe("EMAXDELETE");
    expect(err.details).toMatchObject({ deletes: 4, maxDelete: 3 });
    expect(events).toEqual([]);
    expect(await readTree(join(server.root, "site"))).toEqual(before);

    const ok = await mirror(s, up(local, "site", { delete: true, maxDelete: 4 }));
    expect(ok.deleted).toBe(4);
    expect(await readTree(join(server.root, "site"))).toEqual(await readTree(local));
  });

  it("a dry run plans everything and changes nothing, on either side", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, SPEC);
    await writeTree(join(server.root, "site"), { "old.txt": "old", "sub/": "" });
    const remoteBefore = await readTree(join(server.root, "site"));
    const localBefore = await readTree(local);
    const r = await mirror(s, up(local, "site", { delete: true, dryRun: true }));
    expect(r.dryRun).toBe(true);
    expect(r.plan.transfers).toHaveLength(6);
    expect(r.plan.deletes.map((d) => d.path)).toEqual(["old.txt"]);
    expect(r.transferred).toEqual([]);
    expect(await readTree(join(server.root, "site"))).toEqual(remoteBefore);

    const d = await mirror(s, down("site", local, { delete: true, dryRun: true }));
    expect(d.plan.deletes.length).toBeGreaterThan(0);
    expect(await readTree(local)).toEqual(localBefore);
  });
});

describe("mirror: choosing what to compare and send", () => {
  it("filters: excluded files are neither sent nor deleted, excluded directories never walked", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, {
      "keep.txt": "k",
      "drop.log": "d",
      "keep.log": "kl",
      "node_modules/x/index.js": "x",
    });
    await writeTree(join(server.root, "site"), { "remote.log": "stays", "cache/": "", "cache/blob": "b" });
    const filters = [
      { kind: "exclude" as const, pattern: "*.log" },
      { kind: "include" as const, pattern: "keep.log" },
      { kind: "exclude" as const, pattern: "node_modules" },
      { kind: "exclude" as const, pattern: "cache/" },
    ];
    await mirror(s, up(local, "site", { delete: true, filters }));
    expect(Object.keys(await readTree(join(server.root, "site"))).sort()).toEqual([
      "cache",
      "cache/blob",
      "keep.log",
      "keep.txt",
      "remote.log",
    ]);
  });

  it("only-newer leaves a newer target file alone", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, { "a.txt": "local a" });
    await writeTree(join(server.root, "site"), { "a.txt": "remote a, newer" });
    await utimes(join(server.root, "site/a.txt"), PAST / 1000 + 100, PAST / 1000 + 100);
    const r = await mirror(s, up(local, "site", { onlyNewer: true }));
    expect(r.plan.notNewer).toEqual(["a.txt"]);
    expect(r.transferred).toEqual([]);
    const forced = await mirror(s, up(local, "site"));
    expect(forced.transferred).toHaveLength(1);
  });

  it("checksum: same size and mtime but other bytes is found by md5 (sum for what the listing lacks)", async () => {
    const { server, s, local } = await setup();
    await writeTree(local, { "a.txt": "aaaa", "b.txt": "bbbb", "c.txt": "cccc" });
    await mirror(s, up(local, "site"));
    // Behind ferryd's back: same size, same mtime, other bytes; the listing has no md5 for them.
    for (const name of ["a.txt", "b.txt"]) {
      const st = await stat(join(local, name));
      await writeFile(join(server.root, "site", name), "XXXX");
      await utimes(join(server.root, "site", name), st.atime, st.mtime);
    }
    expect((await mirror(s, up(local, "site"))).transferred).toEqual([]);
    const listed = await s.list("site");
    expect(listed.find((e) => e.name === "a.txt")?.md5).toBeUndefined();
    const r = await mirror(s, up(local, "site", { checksum: true }));
    expect(r.plan.transfers.map((t) => [t.path, t.reason])).toEqual([
      ["a.txt", "checksum"],
      ["b.txt", "checksum"],
    ]);
    expect(r.plan.unchanged).toBe(1);
    expect(await readTree(join(server.root, "site"))).toEqual(await readTree(local));
  });
});

describe("mirror: interrupted, then run again", () => {
  it("upload: the connection cut mid-run; the next run converges and resumes the big file", async () => {
    const server = await testServer({ tls: false });
    const local = await tempDir("ferry-mirror-local-");
    const small: Record<string, string> = {};
    for (let i = 0; i < 40; i++) small[`small/${String(i).padStart(2, "0")}.txt`] = `file ${i}\n`;
    await writeTree(local, small);
    await writeRandomFile(join(local, "big.bin"), 24 * MiB);
    const proxy = await testProxy(server, { cut: { direction: "up", after: 10 * MiB } });
    const cut = await openSession({ host: proxy.host, port: proxy.port, tls: false });
    const err = await rejection(mirror(cut, up(local, "site", { window: 8 })));
    expect(err.code).toBe("ECONNLOST");
    await waitForServerPartial(server.root);

    const s = await session(server, plain);
    const r = await mirror(s, up(local, "site"));
    const big = r.transferred.find((t) => t.local.endsWith("big.bin"));
    expect(big?.resumedFrom).toBeGreaterThan(0);
    expect(await readTree(join(server.root, "site"))).toEqual(await readTree(local));
    expect((await mirror(s, up(local, "site"))).transferred).toEqual([]);
  });

  it("download: the connection cut mid-run; the next run converges and resumes from the .part", async () => {
    const server = await testServer({ tls: false });
    const small: Record<string, string> = {};
    for (let i = 0; i < 40; i++) small[`small/${String(i).padStart(2, "0")}.txt`] = `file ${i}\n`;
    await writeTree(join(server.root, "site"), small);
    await writeRandomFile(join(server.root, "site", "big.bin"), 24 * MiB);
    const local = join(await tempDir("ferry-mirror-local-"), "copy");
    const proxy = await testProxy(server, { cut: { direction: "down", after: 10 * MiB } });
    const cut = await openSession({ host: proxy.host, port: proxy.port, tls: false });
    const err = await rejection(mirror(cut, down("site", local, { window: 8 })));
    expect(err.code).toBe("ECONNLOST");
    expect((await stat(join(local, "big.bin.part"))).size).toBeGreaterThan(0);

    const s = await session(server, plain);
    const r = await mirror(s, down("site", local, { delete: true }));
    const big = r.transferred.find((t) => t.local.endsWith("big.bin"));
    expect(big?.resumedFrom).toBeGreaterThan(0);
    expect(await readTree(local)).toEqual(await readTree(join(server.root, "site")));
  });
});

describe("mirror: links, and names from the server", () => {
  async function linkedTree(): Promise<{ local: string; outside: string }> {
    const base = await tempDir("ferry-mirror-links-");
    const local = join(base, "src");
    const outside = join(base, "outside");
    await writeTree(outside, { "secret.txt": "not yours" });
    await writeTree(local, { "real.txt": "real", "dir/inner.txt": "inner" });
    await symlink("real.txt", join(local, "to-file"));
    await symlink("dir", join(local, "to-dir"));
    await symlink(join(outside, "secret.txt"), join(local, "to-outside"));
    await symlink("..", join(local, "dir", "loop"));
    await symlink("missing", join(local, "dangling"));
    return { local, outside };
  }

  it("skips local links with a note", async () => {
    const { server, s } = await setup();
    const { local } = await linkedTree();
    const { hooks, events } = recorder();
    await mirror(s, up(local, "site"), hooks);
    expect(Object.keys(await readTree(join(server.root, "site"))).sort()).toEqual([
      "dir",
      "dir/inner.txt",
      "real.txt",
    ]);
    const noted = events.filter((e) => e.startsWith("note ")).map((e) => e.split(":")[0]);
    expect(noted.sort()).toEqual([
      "note dangling",
      "note dir/loop",
      "note to-dir",
      "note to-file",
      "note to-outside",
    ]);
  });

  it("with followLinks follows links that stay inside the source, and no others", async () => {
    const { server, s } = await setup();
    const { local } = await linkedTree();
    const { hooks, events } = recorder();
    await mirror(s, up(local, "site", { followLinks: true }), hooks);
    const got = await readTree(join(server.root, "site"));
    expect(Object.keys(got).sort()).toEqual([
      "dir",
      "dir/inner.txt",
      "real.txt",
      "to-dir",
      "to-dir/inner.txt",
      "to-file",
    ]);
    expect(got["to-file"]?.md5).toBe(got["real.txt"]?.md5);
    const noted = events.filter((e) => e.startsWith("note ")).map((e) => e.split(":")[0]);
    expect(noted.sort()).toEqual(["note dangling", "note dir/loop", "note to-dir/loop", "note to-outside"]);
  });

  it("a local link in a download's target is never written through", async () => {
    const { server, s } = await setup();
    await writeTree(join(server.root, "site"), { "d/x.txt": "x", "f.txt": "f" });
    const base = await tempDir("ferry-mirror-target-");
    const outside = join(base, "outside");
    const local = join(base, "copy");
    await mkdir(outside);
    await mkdir(local);
    await symlink(outside, join(local, "d"));
    await symlink(join(outside, "f.txt"), join(local, "f.txt"));
    const { hooks, events } = recorder();
    const r = await mirror(s, down("site", local), hooks);
    expect(r.plan.conflicts.map((c) => c.path)).toEqual(["d", "f.txt"]);
    expect(await readdir(outside)).toEqual([]);
    expect(events.filter((e) => e.startsWith("note ")).length).toBe(2);
  });

  it("names from the server are checked as mget -r checks them: nothing lands outside the target", async () => {
    const port = await hostileServer({
      "/": [{ name: "site", type: "dir" }],
      "/site": [
        { name: "../escape.txt", type: "file", content: "evil" },
        { name: "a/b", type: "file", content: "evil" },
        { name: "..", type: "dir" },
        { name: "bell\u0007.txt", type: "file", content: "evil" },
        { name: "fine.txt", type: "file", content: "fine" },
      ],
    });
    const s: FerrySession = await openSession({ host: "127.0.0.1", port, tls: false });
    const base = await tempDir("ferry-mirror-hostile-");
    const local = join(base, "copy");
    const { hooks, events } = recorder();
    const r = await mirror(s, down("site", local), hooks);
    await s.close();
    expect(r.transferred).toHaveLength(1);
    expect(await readdir(base)).toEqual(["copy"]);
    expect(await readdir(local)).toEqual(["fine.txt"]);
    expect(events.filter((e) => e.startsWith("note ")).length).toBe(4);
  });
});
