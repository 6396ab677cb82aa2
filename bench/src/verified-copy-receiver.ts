/**
 * Receiving half of the "verified loopback copy" baseline, in its own process: socket → file with an
 * inline md5, 1 MiB writes. Sends its port, then "md5:<hex>" when the file is closed, over IPC.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";

const CHUNK = 1024 * 1024;
const target = process.argv[2] as string;

const server = createServer(async (socket) => {
  const file = await open(target, "w");
  const hash = createHash("md5");
  let pending: Buffer[] = [];
  let bytes = 0;
  const flush = async () => {
    const block = Buffer.concat(pending, bytes);
    pending = [];
    bytes = 0;
    hash.update(block);
    await file.write(block);
  };
  for await (const chunk of socket) {
    pending.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= CHUNK) await flush();
  }
  if (bytes > 0) await flush();
  await file.close();
  process.send?.(`md5:${hash.digest("hex")}`);
  server.close();
  process.disconnect?.();
});
server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
