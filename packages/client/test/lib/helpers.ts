import { createCipheriv, createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ServerOptions, STAGING_DIR, startServer } from "@ferry/server";
import { onTestFinished } from "vitest";
import { type ConnectOptions, connect, type FerrySession, type TlsOptions } from "../../src/lib/index.js";

export const MiB = 1024 * 1024;

/** A temp directory removed when the test finishes, pass or fail. */
export async function tempDir(prefix = "ferry-client-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}

export interface TestServer {
  root: string;
  host: string;
  port: number;
  /** How a client trusts exactly this server: its pinned fingerprint, or false over plain TCP. */
  tls: TlsOptions | false;
}

/**
 * The real ferryd in-process on 127.0.0.1, port 0, over a fresh root; closed when the test finishes.
 * It speaks TLS with a certificate made in its own state directory unless `tls: false` is passed
 * (tests whose proxies change bytes at plaintext positions).
 */
export async function testServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const root = await tempDir("ferry-root-");
  const tls = options.tls ?? { stateDir: await tempDir("ferry-state-") };
  const server = await startServer({ root, host: "127.0.0.1", port: 0, fsync: false, ...options, tls });
  onTestFinished(() => server.close());
  const fingerprint = server.fingerprint;
  return { root, host: server.host, port: server.port, tls: fingerprint === null ? false : { fingerprint } };
}

/** A session closed when the test finishes; it trusts the target's certificate (see TestServer.tls). */
export async function session(
  target: { host: string; port: number; tls?: TlsOptions | false },
  options: Partial<ConnectOptions> = {},
): Promise<FerrySession> {
  const s = await connect({ host: target.host, port: target.port, tls: target.tls, ...options });
  onTestFinished(() => s.close());
  return s;
}

/** Deterministic pseudo-random bytes (AES-128-CTR keystream of md5(seed)), streamed to a file. */
export async function writeRandomFile(path: string, size: number, seed = "ferry"): Promise<void> {
  const key = createHash("md5").update(seed).digest();
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  let left = size;
  const source = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, MiB);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
  await pipeline(source, createWriteStream(path));
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Resolves once `check` holds, looking every 10 ms. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

/** Resolves once the server has kept an interrupted upload (a `.partial` in its staging folder). */
export function waitForServerPartial(root: string): Promise<void> {
  return until(async () => {
    const names = await readdir(join(root, STAGING_DIR)).catch(() => [] as string[]);
    return names.some((n) => n.endsWith(".partial"));
  });
}

/** Resolves once a get has written bytes to its local `.part` (its first block reached the disk). */
export function waitForLocalPart(part: string): Promise<void> {
  return until(async () => ((await stat(part).catch(() => null))?.size ?? 0) > 0);
}

export type Direction = "up" | "down";

export interface ProxyRules {
  /** Flip (xor 0xff) the byte at this position of the stream in this direction. */
  flip?: { direction: Direction; at: number };
  /** Cut both connections once this many bytes went in this direction (the rest is not forwarded). */
  cut?: { direction: Direction; after: number };
  /** Stop forwarding (without closing) once this many bytes went in this direction. */
  stall?: { direction: Direction; after: number };
  /**
   * Stop forwarding and stop reading once this many bytes went in this direction, until `release()`:
   * unlike `stall`, nothing is dropped, so the sender is held back by backpressure and then goes on.
   */
  hold?: { direction: Direction; after: number };
  /**
   * Take everything the sender offers at once, as deep kernel buffers would, and pass it on at only
   * this rate: the sender sees all its writes complete long before the receiver has read them.
   */
  slowDrain?: { direction: Direction; bytesPerSecond: number };
}

export interface TestProxy {
  host: string;
  port: number;
  /** The target's: a proxy that only relays bytes changes nothing about whom to trust. */
  tls?: TlsOptions | false;
  /** Resolves when the stall point is reached. */
  stalled: Promise<void>;
  /** Resolves when the cut happened. */
  cutDone: Promise<void>;
  /** Resolves when the hold point is reached. */
  held: Promise<void>;
  /** Ends the hold: what was held back is forwarded, and everything after it. */
  release(): void;
}

/** A TCP proxy in front of the server that corrupts, cuts or stalls the byte stream at exact positions. */
export async function testProxy(
  target: { host: string; port: number; tls?: TlsOptions | false },
  rules: ProxyRules,
): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  let onStall!: () => void;
  let onCut!: () => void;
  const stalled = new Promise<void>((r) => (onStall = r));
  const cutDone = new Promise<void>((r) => (onCut = r));
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  let release: () => void = () => {
    throw new Error("nothing is held");
  };
  const server: Server = createServer((client) => {
    const upstream = tcpConnect({ host: target.host, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    const pump = (from: Socket, to: Socket, direction: Direction) => {
      const drain = rules.slowDrain?.direction === direction ? rules.slowDrain : undefined;
      const write = drain
        ? slowWriter(to, drain.bytesPerSecond)
        : (b: Buffer, cb?: () => void) => to.write(b, cb);
      let seen = 0;
      let stopped = false;
      let holding = rules.hold?.direction === direction;
      let heldBack = false;
      from.on("data", (chunk: Buffer) => {
        if (stopped) return;
        let out = chunk;
        const start = seen;
        seen += chunk.length;
        const flip = rules.flip;
        if (flip?.direction === direction && flip.at >= start && flip.at < seen) {
          out = Buffer.from(chunk);
          out[flip.at - start] = (out[flip.at - start] ?? 0) ^ 0xff;
        }
        const hold = rules.hold;
        if (holding && hold && seen >= hold.after) {
          holding = false;
          const rest = out.subarray(hold.after - start);
          write(out.subarray(0, hold.after - start));
          heldBack = true;
          from.pause();
          release = () => {
            heldBack = false;
            if (rest.length === 0 || write(rest)) from.resume();
            else to.once("drain", () => from.resume());
          };
          onHeld();
          return;
        }
        const limit =
          rules.cut?.direction === direction
            ? rules.cut.after
            : rules.stall?.direction === direction
              ? rules.stall.after
              : Number.POSITIVE_INFINITY;
        if (seen >= limit) {
          stopped = true;
          const keep = out.subarray(0, limit - start);
          if (rules.cut?.direction === direction) {
            write(keep, () => {
              close();
              onCut();
            });
          } else {
            write(keep);
            onStall();
          }
          return;
        }
        if (!write(out)) {
          from.pause();
          to.once("drain", () => {
            if (!heldBack) from.resume();
          });
        }
      });
    };
    pump(client, upstream, "up");
    pump(upstream, client, "down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    host: "127.0.0.1",
    port: address.port,
    tls: target.tls,
    stalled,
    cutDone,
    held,
    release: () => release(),
  };
}

/** Writes to `to` at about `bytesPerSecond`, queueing in memory; the writer never says "wait". */
function slowWriter(to: Socket, bytesPerSecond: number): (chunk: Buffer, done?: () => void) => boolean {
  const queue: Buffer[] = [];
  const slice = 64 * 1024;
  let timer: NodeJS.Timeout | null = null;
  const step = () => {
    timer = null;
    const head = queue[0];
    if (head === undefined || to.destroyed) return;
    const part = head.subarray(0, slice);
    if (part.length === head.length) queue.shift();
    else queue[0] = head.subarray(slice);
    to.write(part);
    timer = setTimeout(step, (part.length / bytesPerSecond) * 1000);
  };
  to.once("close", () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
  return (chunk, done) => {
    queue.push(chunk);
    if (timer === null) step();
    done?.();
    return true;
  };
}

/** Awaits a promise expected to reject; returns the error. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; details?: Record<string, unknown> };
  }
  throw new Error("expected a rejection");
}
