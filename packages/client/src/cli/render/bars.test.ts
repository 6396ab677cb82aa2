import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Bars, barLine, batchDetail, fileDetail } from "./bars.js";

const MiB = 1024 * 1024;

/** A writable that says it is a terminal, so cli-progress draws into it. */
function fakeTerminal(): { stream: PassThrough & { isTTY: boolean; columns: number }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (c: string) => {
    text += c;
  });
  return { stream, text: () => text };
}

describe("bar details", () => {
  it("file: percent, done/total, rate, ETA", () => {
    expect(fileDetail({ bytes: 16 * MiB, total: 64 * MiB, rate: 16 * MiB })).toBe(
      " 25% 16.0 MiB/64.0 MiB 16.0 MiB/s ETA 3s",
    );
  });

  it("batch: files and bytes", () => {
    expect(batchDetail(3, 10, { bytes: MiB, total: 2 * MiB, rate: 0 })).toBe(
      " 50% 3/10 files 1.0 MiB/2.0 MiB -- B/s ETA --",
    );
  });
});

describe("bar lines fit the terminal", () => {
  // As cli-progress hands them to a format function: the bar strings pre-rendered at full size.
  const options = {
    barsize: 20,
    barCompleteString: "█".repeat(20),
    barIncompleteString: "░".repeat(20),
    barGlue: "",
  };
  it("shrink the bar and label first, then drop the ETA and the rate; never as wide as the terminal", () => {
    const label = "long directory name for testing/another-quite-long-file-name-for-the-test.txt";
    const detail = [" 45% 12/30 files", "1.2 GiB/2.0 GiB", "300.0 MiB/s", "ETA 3s"];
    const at80 = barLine(80, label, 0.45, detail, options);
    expect([...at80].length).toBeLessThan(80);
    expect(at80).toMatch(/ETA 3s$/);
    const at50 = barLine(50, label, 0.45, detail, options);
    expect([...at50].length).toBeLessThan(50);
    expect(at50).toMatch(/files 1\.2 GiB\/2\.0 GiB$/);
    expect(barLine(140, "a.bin", 0.5, detail, options)).toMatch(/^a\.bin {19} \[█{10}░{10}\] /);
  });

  it("say verifying once every byte has moved", () => {
    expect(fileDetail({ bytes: 64 * MiB, total: 64 * MiB, rate: MiB, phase: "verifying" })).toBe(
      "100% 64.0 MiB/64.0 MiB verifying",
    );
  });
});

describe("Bars", () => {
  it("draws an overall and a file bar, keeps logged lines and clears the bars on stop", () => {
    const { stream, text } = fakeTerminal();
    const bars = new Bars(stream);
    bars.startBatch(2, 2 * MiB);
    bars.updateFile("a.bin", { bytes: MiB / 2, total: MiB, rate: MiB });
    bars.updateBatch(0, 2, { bytes: MiB / 2, total: 2 * MiB, rate: MiB });
    bars.log("put a.bin → /a.bin 1.0 MiB 1.0 MiB/s md5 ok");
    bars.stop();
    const out = text();
    expect(out).toContain("total");
    expect(out).toContain("0/2 files");
    expect(out).toContain("a.bin");
    expect(out).toContain(" 50% 512.0 KiB/1.0 MiB");
    expect(out).toContain("put a.bin → /a.bin 1.0 MiB 1.0 MiB/s md5 ok\n");
  });
});
