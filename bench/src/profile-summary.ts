/**
 * `node dist/profile-summary.js FILE.cpuprofile [TOP]`: where a `node --cpu-prof` profile spent its
 * time, by function self time (with file:line), so a bench run's profiles can be read without DevTools.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time per function (ms) and total, from a V8 CPU profile. */
export function summarize(profile: Profile): { totalMs: number; rows: { name: string; ms: number }[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attributing it to sample i is the usual convention.
    const id = samples[i] as number;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const byName = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : "";
    const name = `${frame.functionName || "(anonymous)"}${where}`;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  const rows = [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs: (profile.endTime - profile.startTime) / 1000, rows };
}

function main(): void {
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node dist/profile-summary.js FILE.cpuprofile [TOP]\n");
    process.exitCode = 2;
    return;
  }
  const { totalMs, rows } = summarize(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const top = Number(topText ?? 25);
  process.stdout.write(`${basename(file)}: ${(totalMs / 1000).toFixed(2)} s profiled\n`);
  for (const r of rows.slice(0, top)) {
    process.stdout.write(
      `${r.ms.toFixed(0).padStart(8)} ms ${((100 * r.ms) / totalMs).toFixed(1).padStart(5)}%  ${r.name}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) main();
