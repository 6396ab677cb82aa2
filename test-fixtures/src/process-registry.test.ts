import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isRunning, stopProcess, track } from "./process-registry.js";

describe("stopProcess", () => {
  it("falls back to SIGKILL when the process ignores the signal", async () => {
    const proc = spawn(process.execPath, [
      "-e",
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)",
    ]);
    track(proc);
    await new Promise((resolve) => proc.stdout.once("data", resolve));
    const code = await stopProcess(proc, "SIGTERM", 200);
    expect(code).toBeNull();
    expect(proc.signalCode).toBe("SIGKILL");
    expect(isRunning(proc)).toBe(false);
  });
});
