import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { type AddressInfo, createServer, connect as tcpConnect } from "node:net";
import { pipeline } from "node:stream/promises";
import { timed } from "./stats.js";

const CHUNK = 1024 * 1024;

/** Seconds to md5 a file in Node: crypto md5 fed by a 1 MiB-chunk read stream (the verified-transfer limit). */
export async function nodeMd5Seconds(path: string): Promise<{ seconds: number; md5: string }> {
  const { seconds, value } = await timed(async () => {
    const hash = createHash("md5");
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
    return hash.digest("hex");
  });
  return { seconds, md5: value };
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
