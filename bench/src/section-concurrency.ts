import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureDataFile } from "./datafile.js";
import { type FerrySession, loadConnect } from "./ferry-client.js";
import { startFerryd } from "./ferryd.js";
import { DATA_DIR } from "./paths.js";
import { judged } from "./report.js";
import { mbps, sizeLabel, timed } from "./stats.js";

const IDLE_RSS_LIMIT_MB = 150;
const SECRET = "ferry-bench-secret";

/**
 * Section 5, after pyftpdlib's ftpbench: N clients connect and authenticate at once, sit idle (server
 * RSS), then each puts its own file at the same time; every put must verify and none be refused.
 */
export async function runConcurrency(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const n = opts.clients;
  const connect = await loadConnect();
  const file = join(DATA_DIR, `data-${opts.clientPutSize}.bin`);
  const md5 = await ensureDataFile(file, opts.clientPutSize, 3);
  const section = `5 concurrency ${n} clients`;
  await withTempDir("conc", async (dir) => {
    const root = join(dir, "root");
    await mkdir(root);
    const limit = String(n + 50);
    const server = await startFerryd({
      root,
      args: ["--max-connections", limit, "--max-per-ip", limit, "--no-fsync"],
      secret: SECRET,
      nodeArgs: ctx.nodeArgs("ferryd-conc"),
    });
    const sessions: FerrySession[] = [];
    try {
      ctx.log(`concurrency: ${n} clients connect + auth at once`);
      const connected = await timed(() =>
        Promise.allSettled(
          Array.from({ length: n }, () =>
            connect({
              host: server.host,
              port: server.port,
              secret: SECRET,
              tls: false,
              clientName: "ferry-bench",
            }),
          ),
        ),
      );
      const refused: string[] = [];
      for (const r of connected.value) {
        if (r.status === "fulfilled") sessions.push(r.value);
        else refused.push((r.reason as { code?: string }).code ?? String(r.reason));
      }
      ctx.rows.push({ section, name: "connect + auth, all ready", value: connected.seconds, unit: "s" });
      ctx.rows.push(
        judged(
          {
            section,
            name: "connections refused or failed",
            value: refused.length,
            unit: "",
            note: refused.length ? `codes: ${[...new Set(refused)].join(", ")}` : undefined,
          },
          "==",
          0,
          "= 0",
        ),
      );
      await sleep(1000);
      const idle = server.rssMb();
      ctx.rows.push(
        judged(
          { section, name: `server RSS, ${sessions.length} idle clients`, value: idle, unit: "MB" },
          "<",
          IDLE_RSS_LIMIT_MB,
          "< 150",
        ),
      );

      ctx.log(`concurrency: ${sessions.length} concurrent puts of ${sizeLabel(opts.clientPutSize)}`);
      const puts = await timed(() =>
        Promise.allSettled(sessions.map((s, i) => s.put(file, `c${String(i).padStart(3, "0")}.bin`))),
      );
      let verified = 0;
      const errors: string[] = [];
      for (const r of puts.value) {
        if (r.status === "fulfilled" && r.value.md5 === md5 && r.value.size === opts.clientPutSize)
          verified++;
        else if (r.status === "rejected")
          errors.push((r.reason as { code?: string }).code ?? String(r.reason));
      }
      const bytes = verified * opts.clientPutSize;
      ctx.raw.concurrency = {
        connectSeconds: connected.seconds,
        refused,
        idleRssMb: idle,
        putSeconds: puts.seconds,
        verified,
        errors,
        serverPeakMb: server.peakMb(),
      };
      ctx.rows.push({
        section,
        name: `${sessions.length} concurrent ${sizeLabel(opts.clientPutSize)} puts, wall`,
        value: puts.seconds,
        unit: "s",
      });
      ctx.rows.push({
        section,
        name: "  aggregate throughput",
        value: mbps(bytes, puts.seconds),
        unit: "MB/s",
      });
      ctx.rows.push(
        judged(
          {
            section,
            name: "  puts verified",
            value: verified,
            unit: `of ${n}`,
            note: errors.length ? `errors: ${[...new Set(errors)].join(", ")}` : undefined,
          },
          "==",
          n,
          `= ${n}`,
        ),
      );
      ctx.rows.push({ section, name: "server peak RSS during the puts", value: server.peakMb(), unit: "MB" });
    } finally {
      await Promise.allSettled(sessions.map((s) => s.close()));
      await server.stop();
    }
  });
}
