import net from "node:net";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { onTestFinished } from "vitest";

/** Passes bytes on at about `bytesPerSecond`, in small slices, so a transfer is still running when we interrupt it. */
class Throttle extends Transform {
  constructor(private readonly bytesPerSecond: number) {
    super({ highWaterMark: 16 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const slice = 16 * 1024;
    let offset = 0;
    const step = (): void => {
      if (offset >= chunk.length) {
        done();
        return;
      }
      const part = chunk.subarray(offset, offset + slice);
      offset += part.length;
      this.push(part);
      setTimeout(step, (part.length / this.bytesPerSecond) * 1000);
    };
    step();
  }
}

/** A TCP proxy on 127.0.0.1 to `port`, throttled both ways; closed when the test ends. */
export async function throttleProxy(port: number, bytesPerSecond: number): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    // When one side goes, the other goes at once (bytes still in the throttle are dropped), as it
    // would on a direct connection.
    client.once("close", end);
    upstream.once("close", end);
    pipeline(client, new Throttle(bytesPerSecond), upstream).catch(end);
    pipeline(upstream, new Throttle(bytesPerSecond), client).catch(end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as net.AddressInfo).port;
}
