import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TurnCork } from "./turn-cork.js";

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

/** A real TCP connection on 127.0.0.1: `out` writes, `peer` collects what arrives. */
async function tcpPair(): Promise<{ out: Socket; peer: Socket; received: () => Buffer }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection");
  const out = connect((server.address() as AddressInfo).port, "127.0.0.1");
  const [peer] = (await accepted) as [Socket];
  await once(out, "connect");
  server.close();
  open.push(out, peer);
  const chunks: Buffer[] = [];
  peer.on("data", (c: Buffer) => chunks.push(c));
  return { out, peer, received: () => Buffer.concat(chunks) };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe("TurnCork", () => {
  it("sends what one turn wrote in one write, in order, and uncorks after the turn", async () => {
    const { out, received } = await tcpPair();
    const writev = vi.spyOn(out as unknown as { _writev: (...a: unknown[]) => void }, "_writev");
    const cork = new TurnCork(out);
    for (const part of ["one ", "two ", "three"]) {
      cork.hold();
      out.write(part);
    }
    expect(out.writableCorked).toBe(1);
    await nextTurn();
    expect(out.writableCorked).toBe(0);
    expect(writev).toHaveBeenCalledTimes(1);
    await until(() => received().length === 13);
    expect(received().toString()).toBe("one two three");
  });

  it("a write in a later turn is not held unless asked again", async () => {
    const { out } = await tcpPair();
    const cork = new TurnCork(out);
    cork.hold();
    await nextTurn();
    out.write("late");
    expect(out.writableCorked).toBe(0);
    cork.hold();
    expect(out.writableCorked).toBe(1);
  });

  it("holds again what a turn writes after drained() flushed it", async () => {
    const { out, received } = await tcpPair();
    const writev = vi.spyOn(out as unknown as { _writev: (...a: unknown[]) => void }, "_writev");
    const cork = new TurnCork(out);
    cork.hold();
    out.write("a");
    out.uncork(); // as drained() does before it waits
    for (const part of ["b", "c", "d"]) {
      cork.hold();
      out.write(part);
    }
    expect(out.writableCorked).toBe(1);
    await nextTurn();
    expect(out.writableCorked).toBe(0);
    expect(writev).toHaveBeenCalledTimes(1); // b, c and d together
    await until(() => received().length === 4);
    expect(received().toString()).toBe("abcd");
  });

  it("keeps backpressure: a full buffer while held still drains once the peer reads", async () => {
    const { out, received } = await tcpPair();
    const cork = new TurnCork(out);
    const big = Buffer.alloc(out.writableHighWaterMark * 4, 7);
    cork.hold();
    expect(out.write(big)).toBe(false);
    await once(out, "drain");
    await until(() => received().length === big.length);
    expect(received().equals(big)).toBe(true);
  });
});
