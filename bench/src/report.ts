/** One line of the results table (and of latest.json). */
export interface Row {
  section: string;
  name: string;
  value: number | null;
  unit: string;
  /** Human form of the target, e.g. "≥ 0.80" or "< 80". */
  target?: string;
  /** Whether the value meets the target; absent when the row has no target. */
  pass?: boolean;
  note?: string;
}

export type Comparison = ">=" | "<=" | "<" | ">" | "==";

/** A row with a target: pass/miss is decided here so every section judges the same way. */
export function judged(
  row: Omit<Row, "target" | "pass">,
  op: Comparison,
  limit: number,
  targetLabel?: string,
): Row {
  const v = row.value;
  let pass = false;
  if (v !== null && Number.isFinite(v)) {
    if (op === ">=") pass = v >= limit;
    else if (op === "<=") pass = v <= limit;
    else if (op === "<") pass = v < limit;
    else if (op === ">") pass = v > limit;
    else pass = v === limit;
  }
  const sign = { ">=": "≥", "<=": "≤", "<": "<", ">": ">", "==": "=" }[op];
  return { ...row, target: targetLabel ?? `${sign} ${formatValue(limit)}`, pass };
}

/** Numbers as people read them in a table: fewer decimals as they grow. */
export function formatValue(v: number | null): string {
  if (v === null || Number.isNaN(v)) return "n/a";
  if (!Number.isFinite(v)) return "∞";
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const HEADINGS = ["section", "measure", "value", "unit", "target", "result"] as const;

/** The table `pnpm bench` prints: one aligned text table, value column right-aligned, notes below. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.section,
    r.name,
    formatValue(r.value),
    r.unit,
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "pass" : "MISS",
  ]);
  const widths = HEADINGS.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]) =>
    c
      .map((text, i) => (i === 2 ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number)))
      .join(" | ")
      .trimEnd();
  const out = [line(HEADINGS), widths.map((w) => "-".repeat(w)).join("-|-")];
  let previous = "";
  for (const c of cells) {
    const section = c[0] as string;
    out.push(line(section === previous ? ["", ...c.slice(1)] : c));
    previous = section;
  }
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.section} / ${r.name}: ${r.note}`);
  if (notes.length > 0) out.push("", "notes:", ...notes);
  return out.join("\n");
}
