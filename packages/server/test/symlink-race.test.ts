import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Entry } from "@ferry/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer, treeChecksum } from "./helpers/server.js";

const SWAPPER = fileURLToPath(new URL("./helpers/swapper.py", import.meta.url));
/** Per kind of request: whichever comes first. */
const SECONDS_PER_KIND = 1.5;
const MAX_ROUNDS_PER_KIND = 400;
/** Requests sent back to back before waiting for their answers: more of them in flight per swap. */
const BURST = 8;
const CANARIES = 50;
const OUTSIDE_BYTES = Buffer.from("OUTSIDE-SECRET\n".repeat(50));
const INSIDE_BYTES = Buffer.from("inside\n");

/**
 * A directory `root/race` that another process keeps swapping (atomically, renameat2
 * RENAME_EXCHANGE) with a symlink to a directory outside the root, while a client sends ordinary
 * requests through `race/…`. Nothing outside may change and no reply may carry outside data.
 */
async function raceSetup() {
  const t = await startTestServer();
  const outside = path.join(t.base, "outside");
  const race = path.join(t.root, "race");
  await mkdir(outside);
  await mkdir(race);
  for (let i = 0; i < CANARIES; i++) {
    await writeFile(path.join(outside, `c${i}`), OUTSIDE_BYTES);
    await writeFile(path.join(race, `c${i}`), INSIDE_BYTES);
  }
  for (let i = 0; i < 10; i++) {
    await mkdir(path.join(outside, `d${i}`, "deeper"), { recursive: true });
    await writeFile(path.join(outside, `d${i}`, "deeper", "f"), OUTSIDE_BYTES);
    await writeFile(path.join(outside, `outside-only-${i}`), OUTSIDE_BYTES);
  }
  await writeFile(path.join(t.root, "mine.txt"), INSIDE_BYTES);
  await symlink(outside, path.join(t.root, "swap"));
  const before = await treeChecksum(outside);
  const swapper = spawn("python3", [SWAPPER, race, path.join(t.root, "swap"), "60"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  onTestFinished(() => stop(swapper));
  const [first] = (await once(swapper.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  expect(first.toString()).toContain("ready");
  const client = await RawClient.ready(t.port);
  onTestFinished(() => client.close());
  return { ...t, outside, race, before, client, swapper };
}

async function stop(swapper: ChildProcess): Promise<void> {
  if (swapper.exitCode !== null) return;
  swapper.stdin?.end();
  await once(swapper, "exit");
}

/** Every kind of request that takes a path, aimed through `race/`; `i` keeps names apart. */
const KINDS: Record<string, (i: number) => Header[]> = {
  delete: (i) => [{ cmd: "delete", path: `race/c${i % CANARIES}` }],
  "delete -r": (i) => [{ cmd: "delete", path: `race/d${i % 10}`, recursive: true }],
  "rename out of race": (i) => [{ cmd: "rename", from: `race/c${i % CANARIES}`, to: `pulled-${i}` }],
  "rename into race": (i) => [{ cmd: "rename", from: "mine.txt", to: `race/planted-${i}`, overwrite: true }],
  mkdir: (i) => [{ cmd: "mkdir", path: `race/new-${i}` }],
  "mkdir -p": (i) => [{ cmd: "mkdir", path: `race/p-${i}/q`, parents: true }],
  "put with parents": (i) => [{ cmd: "put", path: `race/put-${i}/f`, parents: true }],
  stat: (i) => [{ cmd: "stat", path: `race/c${i % CANARIES}` }],
  list: () => [{ cmd: "list", path: "race" }],
  get: (i) => [{ cmd: "get", path: `race/c${i % CANARIES}` }],
};

/** Sends one request and reads its whole answer; returns every header and payload byte that came back. */
async function roundTrip(c: RawClient, req: Header): Promise<{ headers: Header[]; bytes: Buffer }> {
  if (req.cmd === "put") {
    const reply = await c.put(req.path as string, INSIDE_BYTES, { parents: true });
    return { headers: [reply], bytes: Buffer.alloc(0) };
  }
  if (req.cmd === "get") {
    const { reply, data, end } = await c.get(req.path as string);
    return { headers: end ? [reply, end] : [reply], bytes: data };
  }
  if (req.cmd === "list") {
    const got = await c.list(req.path as string);
    return { headers: Array.isArray(got) ? [{ entries: got }] : [got], bytes: Buffer.alloc(0) };
  }
  return { headers: [await c.request(req)], bytes: Buffer.alloc(0) };
}

function leaks(headers: Header[], bytes: Buffer): string | null {
  if (bytes.includes("OUTSIDE-SECRET")) return "outside file contents";
  for (const h of headers) {
    const entries = [...((h.entries as Entry[] | undefined) ?? []), ...(h.entry ? [h.entry as Entry] : [])];
    for (const e of entries) {
      if (e.name.startsWith("outside-only-") || e.name === "deeper") return `outside name ${e.name}`;
      if (e.type === "file" && e.size === OUTSIDE_BYTES.length) return `outside size of ${e.name}`;
    }
    if (typeof h.size === "number" && h.size === OUTSIDE_BYTES.length) return "outside file size";
    if (typeof h.message === "string" && h.message.includes("/outside")) return "outside path in a message";
  }
  return null;
}

/**
 * Every file under `dir` whose bytes came from outside the root. Walked by hand, never following a
 * link: readdir's own `recursive` descends into symlinked directories on Node 26.
 */
async function outsideBytesUnder(dir: string, rel = ""): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) found.push(...(await outsideBytesUnder(dir, name)));
    else if (e.isFile() && (await readFile(path.join(dir, name))).includes("OUTSIDE-SECRET"))
      found.push(name);
  }
  return found;
}

describe("a directory swapped for a symlink to outside the root, during requests", () => {
  it.each(Object.keys(KINDS))("%s never acts outside the root nor tells of it", async (kind) => {
    const t = await raceSetup();
    const make = KINDS[kind] as (i: number) => Header[];
    const deadline = performance.now() + SECONDS_PER_KIND * 1000;
    let rounds = 0;
    let answered = 0;
    while (rounds < MAX_ROUNDS_PER_KIND && performance.now() < deadline) {
      const burst = Array.from({ length: BURST }, (_, k) => make(rounds * BURST + k)).flat();
      for (const req of burst) {
        const { headers, bytes } = await roundTrip(t.client, req);
        answered += headers.length > 0 ? 1 : 0;
        const leak = leaks(headers, bytes);
        expect(leak, `${kind}: ${JSON.stringify(req)} → ${JSON.stringify(headers).slice(0, 300)}`).toBeNull();
      }
      rounds++;
    }
    await stop(t.swapper);
    expect(answered).toBeGreaterThan(0);
    expect(await treeChecksum(t.outside), `${kind} changed something outside the root`).toBe(t.before);
    expect(await outsideBytesUnder(t.root), `${kind} pulled outside files into the root`).toEqual([]);
    // The server still serves, and the tree inside is usable.
    expect((await t.client.put("after.txt", INSIDE_BYTES)).ok).toBe(true);
    expect(md5((await t.client.get("after.txt")).data)).toBe(md5(INSIDE_BYTES));
  });
});

describe("links that lead out of the root do not tell whether their target exists", () => {
  it("answers EBADPATH for an existing and a missing outside target alike, for every request", async () => {
    const t = await startTestServer();
    const outside = path.join(t.base, "outside");
    await mkdir(path.join(outside, "there"), { recursive: true });
    await writeFile(path.join(outside, "canary.txt"), OUTSIDE_BYTES);
    await symlink(outside, path.join(t.root, "link-out"));
    await symlink(path.join(outside, "canary.txt"), path.join(t.root, "file-out"));
    await symlink(path.join(outside, "nothing"), path.join(t.root, "dangling-out"));
    await symlink(path.join(t.root, ".ferry-staging"), path.join(t.root, "link-stage"));
    await symlink(".", path.join(t.root, "self"));
    await writeFile(path.join(t.root, "ok.txt"), INSIDE_BYTES);
    const before = await treeChecksum(outside);
    const c = await RawClient.ready(t.port);
    onTestFinished(() => c.close());

    const pairs: Array<[string, string]> = [
      ["link-out/canary.txt", "link-out/does-not-exist"],
      ["link-out/there/x", "link-out/nothing/x"],
      ["link-out/there", "link-out/nothing"],
      ["file-out", "dangling-out"],
      ["file-out/x", "dangling-out/x"],
      ["link-stage/x", "self/.ferry-staging/x"],
    ];
    const requests = (p: string): Header[] => [
      { cmd: "get", path: p },
      { cmd: "list", path: p },
      { cmd: "stat", path: `${p}/deeper` },
      { cmd: "delete", path: `${p}/deeper`, recursive: true },
      { cmd: "rename", from: `${p}/deeper`, to: "moved" },
      { cmd: "rename", from: "ok.txt", to: `${p}/planted`, overwrite: true },
      { cmd: "mkdir", path: `${p}/made`, parents: true },
      { cmd: "put", path: `${p}/put`, size: 4, handshake: true, overwrite: true, parents: true },
    ];
    const answers: string[] = [];
    for (const [exists, missing] of pairs) {
      for (const p of [exists, missing]) {
        for (const req of requests(p)) {
          const reply = await c.request(req);
          answers.push(`${JSON.stringify(req)} → ${String(reply.code ?? reply.type)}`);
          expect(reply.code, `${JSON.stringify(req)}`).toBe("EBADPATH");
          expect(String(reply.message)).not.toContain(t.base);
        }
      }
    }
    // The final name itself being a link out is no leak for get/list: they follow it, so EBADPATH.
    for (const p of ["file-out", "dangling-out", "link-out"]) {
      expect((await c.request({ cmd: "get", path: p })).code, p).toBe("EBADPATH");
    }
    expect(await treeChecksum(outside)).toBe(before);
    expect(answers.length).toBe(pairs.length * 2 * 8);
  });

  it("mkdir -p through a dangling link names no server path", async () => {
    const t = await startTestServer();
    await symlink(path.join(t.base, "nowhere"), path.join(t.root, "dangling"));
    await symlink("missing-inside", path.join(t.root, "dangling-in"));
    const c = await RawClient.ready(t.port);
    onTestFinished(() => c.close());
    const out = await c.request({ cmd: "mkdir", path: "dangling/a/b", parents: true });
    expect(out.code).toBe("EBADPATH");
    expect(String(out.message)).not.toContain(t.base);
    // A link that stays inside is followed, and the directory is made where it leads.
    const inside = await c.request({ cmd: "mkdir", path: "dangling-in/a", parents: true });
    expect(inside).toMatchObject({ ok: true });
    expect(await readdir(path.join(t.root, "missing-inside"))).toEqual(["a"]);
  });
});
