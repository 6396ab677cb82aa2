import { fork, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { type AddressInfo, createServer, connect as tcpConnect } from "node:net";
import { pipeline } from "node:stream/promises";
import { VERIFIED_RECEIVER } from "./paths.js";
import { timed } from "./stats.js";

const CHUNK = 1024 * 1024;

/** Seconds to md5 a file in Node: crypto md5 fed by a 1 MiB-chunk read stream (the verified-transfer limit). */
export async function nodeMd5Seconds(
  path: string,
): Promise<{ seconds: number; md5: string; cpuSeconds: number }> {
  const cpuBefore = process.cpuUsage();
  const { seconds, value } = await timed(async () => {
    const hash = createHash("md5");
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
    return hash.digest("hex");
  });
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, md5: value, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export function hasCommand(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

function runCommand(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with code ${code}`)),
    );
  });
}

/** Seconds of `md5sum FILE` (process start included; negligible against a 64 MiB+ file). */
export async function md5sumSeconds(path: string): Promise<{ seconds: number; md5: string }> {
  const { seconds, value } = await timed(() => runCommand("md5sum", [path]));
  return { seconds, md5: value.split(" ")[0] ?? "" };
}

/** Seconds of `cp SRC DST`; DST is removed afterwards. */
export async function cpSeconds(src: string, dst: string): Promise<number> {
  const { seconds } = await timed(() => runCommand("cp", [src, dst]));
  await rm(dst, { force: true });
  return seconds;
}

/**
 * The transport's limit: file → loopback socket → file with 1 MiB reads and a bare Node socket pipe,
 * no framing, no hashing. Timed until the receiving file is closed. DST is removed afterwards.
 */
export async function tcpCopySeconds(src: string, dst: string): Promise<number> {
  let onReceived: (done: Promise<void>) => void = () => {};
  const received = new Promise<void>((resolve, reject) => {
    onReceived = (done) => done.then(resolve, reject);
  });
  const server = createServer((socket) => {
    onReceived(pipeline(socket, createWriteStream(dst, { highWaterMark: CHUNK })));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const { seconds } = await timed(async () => {
      const socket = tcpConnect(port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve).once("error", reject);
      });
      await pipeline(createReadStream(src, { highWaterMark: CHUNK }), socket);
      await received;
    });
    return seconds;
  } finally {
    server.close();
    await rm(dst, { force: true });
  }
}

/**
 * What a verified transfer can reach here with the simplest design: two processes (like ferry's
 * client and server), each hashing inline on its one thread, 1 MiB reads and writes, no framing.
 * Timed until the receiver has closed the file and reported its md5, which must equal the sender's.
 */
export async function verifiedCopySeconds(src: string, dst: string): Promise<number> {
  const child = fork(VERIFIED_RECEIVER, [dst], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve(Number(m))).once("error", reject);
    });
    const received = new Promise<string>((resolve, reject) => {
      child.on("message", (m) => String(m).startsWith("md5:") && resolve(String(m).slice(4)));
      child.once("exit", (code) => reject(new Error(`receiver exited with code ${code}`)));
    });
    const { seconds, value } = await timed(async () => {
      const socket = tcpConnect(port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve).once("error", reject);
      });
      const hash = createHash("md5");
      await pipeline(
        createReadStream(src, { highWaterMark: CHUNK }),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        socket,
      );
      return { sent: hash.digest("hex"), got: await received };
    });
    if (value.sent !== value.got) throw new Error(`verified copy: md5 ${value.got} != ${value.sent}`);
    return seconds;
  } finally {
    child.kill();
    await rm(dst, { force: true });
  }
}
