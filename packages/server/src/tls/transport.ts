import type { Socket } from "node:net";
import { type SecureContext, TLSSocket, type TLSSocketOptions } from "node:tls";
import {
  encodeFrame,
  errorReplyOf,
  FerryError,
  SOCKET_HIGH_WATER_MARK,
  TLS_HANDSHAKE_BYTE,
} from "@ferry/protocol";

/** How a listener speaks: TLS 1.3 with one certificate, or plain TCP. */
export type Transport = { kind: "tls"; context: SecureContext } | { kind: "plain" };

/** A connection that did not become a session, and why (for the log). */
export interface NoSession {
  reason: string;
  /** Worth a warning: a client of the other kind, which a person should hear about. */
  mismatch: boolean;
}

export interface EstablishOptions {
  /**
   * The first byte and, with TLS, the whole handshake must arrive within this time of the connection,
   * so a client that connects and stalls holds its connection slot no longer than a slow header would.
   */
  deadlineMs: number;
  /** Plain TCP: how long to wait for the first byte (no handshake to bound; the idle timeout's job). */
  idleMs: number;
  /** After a refusal frame, how long the peer has to read it before the socket is cut. */
  lingerMs: number;
}

/**
 * Turns an accepted TCP connection into the byte stream the ferry protocol runs on. The first byte
 * tells a TLS client (a handshake record, 0x16) from a plain ferry client (a frame's length prefix,
 * whose first byte is 0 for any header under 16 MiB), so a client of the wrong kind gets one clear
 * error frame in plain TCP instead of a hang or a parse error of TLS bytes as a length. Resolves with
 * the socket (a TLSSocket after a finished handshake) or with why there is none; never rejects.
 */
export function establish(
  raw: Socket,
  transport: Transport,
  opts: EstablishOptions,
): { done: Promise<Socket | NoSession>; abort: () => void } {
  let settle!: (result: Socket | NoSession) => void;
  const done = new Promise<Socket | NoSession>((resolve) => {
    settle = resolve;
  });
  let tlsSocket: TLSSocket | null = null;
  let finished = false;
  const finish = (result: Socket | NoSession): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    raw.off("data", onFirst);
    raw.off("close", onClose);
    raw.off("end", onClose);
    tlsSocket?.off("close", onClose);
    tlsSocket?.off("end", onClose);
    settle(result);
  };
  const fail = (reason: string, mismatch = false): void => {
    tlsSocket?.destroy();
    raw.destroy();
    finish({ reason, mismatch });
  };
  const onClose = (): void => fail("closed before the session started");
  const timer = setTimeout(
    () => fail(transport.kind === "tls" ? "the TLS handshake took too long" : "no byte arrived"),
    transport.kind === "tls" ? opts.deadlineMs : opts.idleMs,
  );
  timer.unref();

  const onFirst = (chunk: Buffer): void => {
    raw.off("data", onFirst);
    raw.pause();
    raw.unshift(chunk);
    const isTls = chunk[0] === TLS_HANDSHAKE_BYTE;
    if (transport.kind === "plain") {
      if (!isTls) {
        finish(raw);
        return;
      }
      // The client's TLS stack reads this frame as a malformed record and reports a handshake error.
      refuse(raw, "ETLS", "this server speaks plain TCP (ferryd --no-tls); connect with --no-tls", opts);
      finish({ reason: "a TLS client reached this --no-tls server", mismatch: true });
      return;
    }
    if (!isTls) {
      refuse(raw, "ETLS", "this server speaks TLS; connect without --no-tls", opts);
      finish({ reason: "a plain-TCP client reached this TLS server", mismatch: true });
      return;
    }
    // The bytes put back above reach the TLS layer first (TLSSocket reads what the socket buffered).
    // highWaterMark reaches the TLSSocket's Duplex (as net.Server's option does for raw sockets),
    // though @types/node's TLSSocketOptions does not list it.
    const options: TLSSocketOptions & { highWaterMark: number } = {
      isServer: true,
      secureContext: transport.context,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    };
    const socket = new TLSSocket(raw, options);
    tlsSocket = socket;
    socket.once("secure", () => finish(socket));
    socket.once("error", (err: Error) => fail(`TLS handshake failed: ${tlsReason(err)}`));
    // The raw socket's events stop once TLS has taken its handle. A peer's FIN is an 'end' without a
    // 'close' (the listener is half-open).
    socket.once("close", onClose);
    socket.once("end", onClose);
  };

  raw.on("error", () => {}); // the close that follows says it
  raw.once("close", onClose);
  raw.once("end", onClose);
  raw.on("data", onFirst);
  return { done, abort: () => fail("server shutting down") };
}

/** One error frame in plain TCP, then the socket is ended and, a little later, cut. */
export function refuse(
  socket: Socket,
  code: "ETLS" | "EBUSY",
  message: string,
  opts: { lingerMs: number },
): void {
  socket.on("error", () => {});
  socket.end(encodeFrame(errorReplyOf(null, new FerryError(code, message))));
  // Read and drop what the client sends meanwhile (its hello), so closing does not reset the
  // connection before the client has read why.
  socket.resume();
  setTimeout(() => socket.destroy(), opts.lingerMs).unref();
}

/** OpenSSL's reason without its numeric prefix ("error:0A00010B:SSL routines::wrong version number"). */
export function tlsReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const text = /:([^:]+)$/.exec(err.message)?.[1] ?? err.message;
  return code && !text.includes(code) ? `${text} (${code})` : text;
}
