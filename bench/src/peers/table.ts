import { formatValue } from "../report.js";

/** Which tool ran: ferry over plain TCP (against rsyncd) or TLS (against sftp), or a peer. */
export type ToolId =
  | "ferry-tcp"
  | "ferry-tls"
  | "ferry-fsync"
  | "ferry-xxh"
  | "rsync"
  | "rsync-md5"
  | "sftp"
  | "node"
  | "md5sum"
  | "disk";

/** One tool's figure in one row, as latest.json keeps it (`peers`). */
export interface PeerFigure {
  row: string;
  tool: ToolId;
  /** Median over the runs; null when the tool is not installed. */
  value: number | null;
  unit: string;
  /** ferry's figure over the peer's it is compared with (see `ratioTo`); null for the peers. */
  ratio: number | null;
  ratioTo?: ToolId;
  /** Wall seconds of each run, in order. */
  seconds: number[];
  note?: string;
}

/** One line of the printed table: the figures of one work, by column. */
export interface PeerLine {
  work: string;
  cells: Partial<Record<Column, string>>;
  note?: string;
}

export type Column = "ferryTcp" | "rsync" | "ratioRsync" | "ferryTls" | "sftp" | "ratioSftp";

const HEADINGS: [Column | "work" | "note", string][] = [
  ["work", "work"],
  ["ferryTcp", "ferry (TCP)"],
  ["rsync", "rsync daemon"],
  ["ratioRsync", "ferry / rsync"],
  ["ferryTls", "ferry (TLS)"],
  ["sftp", "OpenSSH sftp"],
  ["ratioSftp", "ferry TLS / sftp"],
  ["note", "note"],
];

/** "511 files/s", "n/a", or the reason a tool did not run. */
export function cell(figure: PeerFigure | undefined): string {
  if (figure === undefined) return "—";
  if (figure.value === null) return figure.note ?? "n/a";
  return `${formatValue(figure.value)} ${figure.unit}`;
}

export function ratioCell(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "—" : `${ratio.toFixed(2)}×`;
}

/** The peers table as Markdown, the shape of the table, so a note can quote it as printed. */
export function formatPeerTable(lines: readonly PeerLine[]): string {
  const head = `| ${HEADINGS.map(([, h]) => h).join(" | ")} |`;
  const rule = `|${HEADINGS.map(() => "---").join("|")}|`;
  const body = lines.map(
    (l) =>
      `| ${HEADINGS.map(([key]) => (key === "work" ? l.work : key === "note" ? (l.note ?? "") : (l.cells[key] ?? "—"))).join(" | ")} |`,
  );
  return [head, rule, ...body].join("\n");
}
