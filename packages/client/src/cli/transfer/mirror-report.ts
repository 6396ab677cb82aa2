import {
  type MirrorHooks,
  type MirrorPlan,
  type MirrorResult,
  type MirrorTransfer,
  printable,
  type TransferResult,
} from "../../lib/index.js";
import type { Context } from "../commands/types.js";
import { describeError } from "../errors.js";
import { humanSize } from "../render/format.js";
import type { TransferSummary } from "../render/lines.js";
import type { Reporter } from "../render/reporter.js";
import { visible } from "../render/visible.js";
import { showLocal } from "./jobs.js";

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

/**
 * What `mirror` shows: the plan on a dry run, one line (or JSON line) per transfer, mkdir and
 * delete, notes for what was left out, and a closing summary. The library does the work; this
 * only draws it.
 */
export class MirrorReport {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly ctx: Context,
    private readonly reporter: Reporter,
    private readonly json: boolean,
    private readonly dryRun: boolean,
    private readonly upload: boolean,
    /** A relative path of the plan as a full target path (remote, or local absolute). */
    private readonly targetOf: (rel: string) => string,
  ) {}

  /** A path the library names: remote as it is, local relative to the local cwd when inside it. */
  private where(p: string): string {
    return this.upload ? printable(p) : showLocal(this.ctx, p);
  }

  private from(t: MirrorTransfer): string {
    return t.op === "put" ? showLocal(this.ctx, t.local) : printable(t.remote);
  }

  private to(t: MirrorTransfer): string {
    return t.op === "put" ? printable(t.remote) : showLocal(this.ctx, t.local);
  }

  private say(text: string, json: Record<string, unknown>): void {
    if (this.json) this.ctx.io.json(json);
    else this.reporter.line(text);
  }

  readonly hooks: MirrorHooks = {
    onPlan: (plan, transfers) => this.plan(plan, transfers),
    onNote: (n) => {
      if (this.json) this.ctx.io.json({ kind: "note", path: n.path, message: n.message });
      else this.reporter.note(visible(n.message));
    },
    onMkdir: (p) => this.say(`mkdir ${this.where(p)}`, { kind: "mkdir", path: this.where(p) }),
    onTransferStart: (t) => {
      const file = this.reporter.file(t.op === "put" ? this.from(t) : printable(t.path));
      this.ids.set(t.path, file.id);
      return file.onProgress;
    },
    onTransferDone: (t, r) => this.reporter.done(this.summary(t, r), this.ids.get(t.path)),
    onTransferFailed: (t, err) => {
      this.reporter.failed(this.ids.get(t.path), 0);
      if (err.code === "EABORTED" || this.ctx.signal.aborted) return;
      this.reporter.note(`${t.op} ${this.from(t)} → ${this.to(t)}: ${visible(describeError(err))}`);
    },
    onDelete: (d, p) =>
      this.say(`delete ${this.where(p)}`, { kind: "delete", path: this.where(p), type: d.type }),
  };

  private plan(plan: MirrorPlan, transfers: readonly MirrorTransfer[]): void {
    if (!this.dryRun) {
      this.reporter.startBatch(transfers.length, plan.bytes);
      return;
    }
    for (const m of plan.mkdirs) {
      const shown = this.where(this.targetOf(m));
      this.say(`would mkdir ${shown}`, { kind: "plan", action: "mkdir", path: shown });
    }
    for (const t of transfers) {
      this.say(`would ${t.op} ${this.from(t)} → ${this.to(t)} (${t.reason}, ${humanSize(t.size)})`, {
        kind: "plan",
        action: t.op,
        from: this.from(t),
        to: this.to(t),
        size: t.size,
        reason: t.reason,
      });
    }
    for (const d of plan.deletes) {
      const shown = this.where(this.targetOf(d.path));
      this.say(`would delete ${shown}${d.type === "dir" ? "/" : ""}`, {
        kind: "plan",
        action: "delete",
        path: shown,
        type: d.type,
      });
    }
  }

  private summary(t: MirrorTransfer, r: TransferResult): TransferSummary {
    return {
      op: t.op,
      from: this.from(t),
      to: this.to(t),
      size: r.size,
      alg: r.alg,
      hash: r.hash,
      transferred: r.transferred,
      resumedFrom: r.resumedFrom,
      seconds: r.seconds,
    };
  }

  /** The closing line: what was done (or would be), what was alike, what was left alone. */
  finish(result: MirrorResult): void {
    const { plan } = result;
    const files = this.dryRun ? plan.transfers.length : result.transferred.length;
    const bytes = this.dryRun ? plan.bytes : result.transferred.reduce((n, r) => n + r.size, 0);
    const deleted = this.dryRun ? plan.deletes.length : result.deleted;
    if (this.json) {
      this.ctx.io.json({
        kind: "mirror",
        direction: result.direction,
        dryRun: this.dryRun,
        transfers: files,
        bytes,
        sent: result.bytes,
        mkdirs: this.dryRun ? plan.mkdirs.length : result.mkdirs,
        deletes: deleted,
        unchanged: plan.unchanged,
        notNewer: plan.notNewer.length,
        excluded: plan.excluded,
        conflicts: plan.conflicts.length,
        notes: result.notes.length,
      });
      return;
    }
    const parts = [
      `${plural(files, this.dryRun ? "to transfer" : "transferred", this.dryRun ? "to transfer" : "transferred")} (${humanSize(bytes)})`,
      `${plural(this.dryRun ? plan.mkdirs.length : result.mkdirs, "new dir", "new dirs")}`,
      `${plural(deleted, "deleted", "deleted")}`,
      `${plural(plan.unchanged, "unchanged", "unchanged")}`,
    ];
    if (plan.notNewer.length > 0) parts.push(`${plural(plan.notNewer.length, "not newer", "not newer")}`);
    if (plan.excluded > 0) parts.push(`${plural(plan.excluded, "excluded", "excluded")}`);
    if (plan.conflicts.length > 0) parts.push(`${plural(plan.conflicts.length, "conflict")} left alone`);
    const head = this.dryRun ? "mirror dry run, nothing changed" : "mirror";
    this.reporter.line(`${head}: ${parts.join(", ")}`);
  }
}
