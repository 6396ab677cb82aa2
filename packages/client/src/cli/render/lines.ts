import type { HashAlgorithm } from "@ferry/protocol";
import { humanRate, humanSize } from "./format.js";

/** What a finished transfer looks like to the renderers; names are already printable. */
export interface TransferSummary {
  op: "put" | "get";
  from: string;
  to: string;
  size: number;
  alg: HashAlgorithm;
  hash: string;
  /** Bytes that crossed the wire in this run (less than size after a resume). */
  transferred: number;
  resumedFrom: number;
  seconds: number;
}

export function transferRate(s: TransferSummary): number {
  return s.seconds > 0 ? s.transferred / s.seconds : Number.POSITIVE_INFINITY;
}

/** `put a.bin → /a.bin 64.0 MiB 412 MiB/s md5 ok` (and where a resume started, if it did). */
export function transferLine(s: TransferSummary): string {
  const rate = s.seconds > 0 ? humanRate(transferRate(s)) : "-- B/s";
  const resumed = s.resumedFrom > 0 ? ` (resumed at ${humanSize(s.resumedFrom)})` : "";
  return `${s.op} ${s.from} → ${s.to} ${humanSize(s.size)} ${rate} ${s.alg} ok${resumed}`;
}

export function skipLine(op: "put" | "get", from: string, to: string, reason: string): string {
  return `${op} ${from} → ${to} skipped (${reason})`;
}

export function transferJson(s: TransferSummary): Record<string, unknown> {
  return {
    kind: "transfer",
    op: s.op,
    from: s.from,
    to: s.to,
    size: s.size,
    // md5 keeps its field, as it always had; another alg's value never rides in it (PROTOCOL.md §1.2).
    ...(s.alg === "md5" ? { md5: s.hash } : { alg: s.alg, hash: s.hash }),
    check: "ok",
    transferred: s.transferred,
    resumedFrom: s.resumedFrom,
    seconds: Number(s.seconds.toFixed(3)),
  };
}
