import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import {
  authAnswer,
  certificateFingerprint,
  type Entry,
  encodeFrame,
  type Frame,
  FrameReader,
} from "@ferry/protocol";

export type Header = Record<string, unknown>;

export const md5 = (data: Uint8Array) => createHash("md5").update(data).digest("hex");

/**
 * A deliberately small client that speaks the wire format by hand (FrameReader/encodeFrame only), so
 * the server tests do not depend on the real client library and can misbehave on purpose.
 */
export class RawClient {
  private readonly reader: FrameReader;
  private nextId = 1;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    this.reader = new FrameReader(socket, { maxHeaderBytes: 16 * 1024 * 1024 });
  }

  /**
   * Plain TCP, or TLS when `fingerprint` is given (the server's certificate must have it).
   * `localAddress`: the source address, e.g. 127.0.0.2 to be another client address on loopback.
   */
  static async connect(
    port: number,
    host = "127.0.0.1",
    fingerprint?: string,
    localAddress?: string,
  ): Promise<RawClient> {
    if (fingerprint !== undefined) return RawClient.connectTls(port, host, fingerprint);
    const socket = net.connect({ port, host, localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  private static async connectTls(port: number, host: string, fingerprint: string): Promise<RawClient> {
    const socket = tls.connect({ port, host, rejectUnauthorized: false, minVersion: "TLSv1.3" });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    const seen = certificateFingerprint(socket.getPeerCertificate().raw);
    if (seen !== fingerprint) {
      socket.destroy();
      throw new Error(`the server's certificate is ${seen}, not ${fingerprint}`);
    }
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  /** Connects (over TLS with `fingerprint`) and says hello, and authenticates when a secret is given. */
  static async ready(port: number, secret?: string, fingerprint?: string): Promise<RawClient> {
    const c = await RawClient.connect(port, "127.0.0.1", fingerprint);
    const hello = await c.request({ cmd: "hello", version: 1, client: "raw-test/1" });
    if (hello.ok !== true) throw new Error(`hello failed: ${JSON.stringify(hello)}`);
    if (hello.auth === true) {
      const reply = await c.request({
        cmd: "auth",
        hmac: authAnswer(secret ?? "", hello.challenge as string),
      });
      if (reply.ok !== true) throw new Error(`auth failed: ${JSON.stringify(reply)}`);
    }
    return c;
  }

  id(): number {
    return this.nextId++;
  }

  send(header: Header): number {
    const id = typeof header.id === "number" ? header.id : this.id();
    this.socket.write(encodeFrame({ ...header, id }, 16 * 1024 * 1024));
    return id;
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  sendData(id: number, offset: number, bytes: Uint8Array, declared = bytes.length): void {
    this.socket.write(encodeFrame({ cmd: "data", id, offset, size: declared }));
    this.socket.write(bytes);
  }

  /** The next frame, or null if the server closed the connection between frames. */
  async frame(): Promise<Frame | null> {
    try {
      return await this.reader.next();
    } catch {
      return null;
    }
  }

  /** The next frame's header; throws if the connection ended. */
  async reply(): Promise<Header> {
    const f = await this.frame();
    if (!f) throw new Error("connection closed before a reply");
    return f.header;
  }

  async request(header: Header): Promise<Header> {
    this.send(header);
    return this.reply();
  }

  /** Streamed put with the md5 up front; returns the server's answer. */
  async put(path: string, data: Uint8Array, extra: Header = {}): Promise<Header> {
    const id = this.send({ cmd: "put", path, size: data.length, md5: md5(data), ...extra });
    this.sendData(id, 0, data);
    return this.reply();
  }

  /** get: the `file` reply, the payload and the trailer (when there is one). */
  async get(path: string, extra: Header = {}): Promise<{ reply: Header; data: Buffer; end?: Header }> {
    const reply = await this.request({ cmd: "get", path, ...extra });
    if (reply.ok !== true) return { reply, data: Buffer.alloc(0) };
    const frame = await this.frame();
    if (frame?.header.cmd !== "data") throw new Error("expected a data frame");
    const chunks: Buffer[] = [];
    for await (const chunk of frame.payload) chunks.push(Buffer.from(chunk));
    const data = Buffer.concat(chunks);
    if (reply.md5 !== undefined || reply.hash !== undefined) return { reply, data };
    return { reply, data, end: await this.reply() };
  }

  /** list: all entries across frames, or the error reply. */
  async list(path: string): Promise<Entry[] | Header> {
    const id = this.send({ cmd: "list", path });
    const entries: Entry[] = [];
    for (;;) {
      const r = await this.reply();
      if (r.id !== id) throw new Error(`reply for ${String(r.id)}, expected ${id}`);
      if (r.ok !== true) return r;
      entries.push(...(r.entries as Entry[]));
      if (r.more === false) return entries;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
