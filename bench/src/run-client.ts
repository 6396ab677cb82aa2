import { spawn } from "node:child_process";
import type { ClientJob, ClientOutcome } from "./client-child.js";
import { cleanEnv } from "./ferryd.js";
import { CLIENT_CHILD } from "./paths.js";

/** Runs one transfer in a fresh client process and returns what it reported. */
export function runClientChild(job: ClientJob, nodeArgs: string[] = []): Promise<ClientOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLIENT_CHILD, JSON.stringify(job)], {
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(),
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err = (err + s).slice(-10_000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as ClientOutcome);
      } catch {
        reject(new Error(`client process exited with code ${code} without a result\n${err.trim()}`));
      }
    });
  });
}
