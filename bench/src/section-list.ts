import { execFile } from "node:child_process";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { encodeFrame, type Frame, FrameReader } from "@ferry/protocol";
import type { BenchContext } from "./context.js";
import { type Ferryd, startFerryd } from "./ferryd.js";
import { DATA_DIR } from "./paths.js";
import { judged } from "./report.js";
import { timed } from "./stats.js";

const ENTRIES = 200_000;
const IDLE_LISTERS = 10;
const ONE_LIST_LIMIT_MB = 40;
const IDLE_LISTERS_LIMIT_MB = 100;
/** How often the server is checked for having gone idle, and the most we wait for it. */
const SETTLE_MS = 1_000;
const SETTLE_MAX_MS = 60_000;

/**
 * Section 6: memory of big directory listings. A fresh ferryd (read-only) over a directory of
 * 200,000 empty files: RSS it adds for one listing read to the end, then (fresh again) for ten
 * listings whose clients send `list` and never read, and what is left once those clients close.
 */
export async function runList(ctx: BenchContext): Promise<void> {
  const dir = await ensureManyFiles(join(DATA_DIR, `list-${ENTRIES}`), ENTRIES);
  const section = `6 list ${ENTRIES.toLocaleString("en")} entries`;
  const args = ["--read-only"];

  let server = await startFerryd({ root: dir, args, nodeArgs: ctx.nodeArgs("ferryd-list") });
  try {
    const base = await settledRss(server);
    ctx.log("list: one listing, read to the end");
    const client = await RawLister.open(server.port);
    let firstFrameRss: number | null = null;
    const listed = await timed(() =>
      client.readAll(() => {
        firstFrameRss = server.rssMb();
      }),
    );
    client.close();
    const { entries, sorted, firstFrameSeconds } = listed.value;
    if (entries !== ENTRIES || !sorted) throw new Error(`listed ${entries} entries, sorted: ${sorted}`);
    const peak = server.peakMb();
    const added = peak === null ? null : peak - base;
    ctx.raw.list = { base, firstFrameRss, peak, seconds: listed.seconds, firstFrameSeconds };
    ctx.rows.push({ section, name: "1 listing: first frame after", value: firstFrameSeconds, unit: "s" });
    ctx.rows.push({ section, name: "1 listing: all entries after", value: listed.seconds, unit: "s" });
    ctx.rows.push(
      judged(
        { section, name: "1 listing: server peak RSS added", value: added, unit: "MB" },
        "<",
        ONE_LIST_LIMIT_MB,
      ),
    );
  } finally {
    await server.stop();
  }

  server = await startFerryd({ root: dir, args, nodeArgs: ctx.nodeArgs("ferryd-list") });
  try {
    const base = await settledRss(server);
    ctx.log(`list: ${IDLE_LISTERS} listings whose clients never read`);
    const idle = await Promise.all(Array.from({ length: IDLE_LISTERS }, () => RawLister.open(server.port)));
    for (const c of idle) c.sendList();
    const held = await settledRss(server);
    const peak = server.peakMb();
    // Only now read each first reply, to tell listings served from listings refused, and close at
    // once so the served ones go no further.
    const firsts = await Promise.all(
      idle.map(async (c) => {
        const reply = await c.firstReply();
        c.close();
        return reply;
      }),
    );
    const refused = firsts.filter((h) => h.ok !== true).map((h) => String(h.code));
    const after = await settledRss(server);
    ctx.raw.listIdle = { base, held, peak, after, refused };
    const name = `${IDLE_LISTERS} unread listings`;
    ctx.rows.push(
      judged(
        {
          section,
          name: `${name}: server RSS added`,
          value: held - base,
          unit: "MB",
          note: refused.length
            ? `${refused.length} refused (${[...new Set(refused)].join(", ")})`
            : undefined,
        },
        "<",
        IDLE_LISTERS_LIMIT_MB,
      ),
    );
    ctx.rows.push({
      section,
      name: `${name}: server peak RSS added`,
      value: peak === null ? null : peak - base,
      unit: "MB",
    });
    ctx.rows.push({ section, name: `${name}: refused`, value: refused.length, unit: `of ${IDLE_LISTERS}` });
    ctx.rows.push({ section, name: "  RSS added once they closed", value: after - base, unit: "MB" });
  } finally {
    await server.stop();
  }
}

/**
 * Current RSS once the server has gone idle: under 0.05 CPU seconds used in a second, so listings
 * are either done or stuck on clients that do not read (or SETTLE_MAX_MS passed).
 */
async function settledRss(server: Ferryd): Promise<number> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let cpu = server.cpuSeconds() ?? 0;
  while (Date.now() < deadline) {
    await sleep(SETTLE_MS);
    const now = server.cpuSeconds() ?? 0;
    if (now - cpu < 0.05) break;
    cpu = now;
  }
  return server.rssMb() ?? 0;
}

/** `count` empty files in `dir`, made once (in a temporary folder renamed into place) and reused. */
async function ensureManyFiles(dir: string, count: number): Promise<string> {
  const done = await stat(dir).then(
    () => true,
    () => false,
  );
  if (done && (await readdir(dir)).length === count) return dir;
  await rm(dir, { recursive: true, force: true });
  const temp = `${dir}.tmp-${process.pid}`;
  await mkdir(temp, { recursive: true });
  // xargs touch: 200,000 files in a few seconds, where as many writeFile calls take far longer.
  await promisify(execFile)("sh", ["-c", `seq -f 'file-%06g.dat' 0 ${count - 1} | xargs touch`], {
    cwd: temp,
  });
  await rename(temp, dir);
  return dir;
}

/** A hand-made ferry connection: hello and list frames only, so it can choose never to read. */
class RawLister {
  private readonly reader: FrameReader;

  private constructor(private readonly socket: net.Socket) {
    socket.on("error", () => {});
    this.reader = new FrameReader(socket);
  }

  static async open(port: number): Promise<RawLister> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(encodeFrame({ cmd: "hello", id: 1, version: 1, client: "ferry-bench-list" }));
    return new RawLister(socket);
  }

  sendList(): void {
    this.socket.write(encodeFrame({ cmd: "list", id: 2, path: "/" }));
  }

  /** The reply to the list (after hello's). */
  async firstReply(): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = await this.next();
      if (frame.header.id === 2) return frame.header;
    }
  }

  /** Lists "/" to the end; `onFirst` runs as the first entries frame arrives. */
  async readAll(
    onFirst: () => void,
  ): Promise<{ entries: number; sorted: boolean; firstFrameSeconds: number }> {
    const start = process.hrtime.bigint();
    this.sendList();
    const first = await this.firstReply();
    const firstFrameSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    onFirst();
    let header = first;
    let entries = 0;
    let sorted = true;
    let last: Buffer | null = null;
    for (;;) {
      if (header.ok !== true)
        throw new Error(`list failed: ${String(header.code)} ${String(header.message)}`);
      for (const e of header.entries as { name: string }[]) {
        const name = Buffer.from(e.name);
        if (last && Buffer.compare(last, name) >= 0) sorted = false;
        last = name;
        entries++;
      }
      if (header.more === false) return { entries, sorted, firstFrameSeconds };
      header = (await this.next()).header;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private async next(): Promise<Frame> {
    const frame = await this.reader.next();
    if (!frame) throw new Error("the server closed the connection");
    return frame;
  }
}
