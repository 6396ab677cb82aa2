import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { helpText } from "../src/cli-options.js";
import { type FerrydRun as Run, spawnFerryd } from "./helpers/ferryd-process.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { tempDir } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** RawClient speaks plain TCP: where ferryd listens in TLS by default, it is asked not to. */
const PLAIN = helpText().includes("--no-tls") ? ["--no-tls"] : [];
const MiB = 1024 * 1024;

/** The real ferryd binary, plain TCP unless `tls` (its default), with no FERRY_* from this shell. */
function ferryd(args: string[], env: NodeJS.ProcessEnv = {}, { tls = false } = {}): Run {
  return spawnFerryd([...(tls ? [] : PLAIN), ...args], { env });
}

/** Waits (up to about 20 s) for a state another process reaches. */
const waitFor = (cond: () => boolean, what: string) => until(() => (cond() ? true : undefined), what, 2_000);

async function listening(r: Run): Promise<number> {
  await waitFor(() => /^listening on \S+:\d+\n/.test(r.stdout()) || r.proc.exitCode !== null, "listening");
  const m = /^listening on \S+:(\d+)\n/.exec(r.stdout());
  if (!m) throw new Error(`ferryd did not start: ${r.stderr()}`);
  return Number(m[1]);
}

describe("stopping ferryd", () => {
  it("one Ctrl-C delivered twice (terminal and pnpm, as under pnpm exec ferryd) still gives the grace period", async () => {
    const root = await tempDir();
    const r = ferryd(["--root", root, "--port", "0", "--no-fsync", "--grace", "20"]);
    const port = await listening(r);
    const c = await RawClient.ready(port);
    const data = randomBytes(2 * MiB);
    const id = c.send({ cmd: "put", path: "held.bin", size: data.length, md5: md5(data), handshake: true });
    expect(await c.reply()).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.send({ cmd: "data", id, offset: 0, size: data.length });
    c.sendRaw(data.subarray(0, MiB));

    // What a Ctrl-C in the terminal does to `pnpm exec ferryd`: SIGINT to the process group, and
    // pnpm forwards its own SIGINT to the child, a moment later.
    r.proc.kill("SIGINT");
    await waitFor(() => r.stderr().includes("shutting down"), "shutting down");
    r.proc.kill("SIGINT");
    // The grace period holds: the upload in progress finishes and is committed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.sendRaw(data.subarray(MiB));
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect(await r.exit).toBe(0);
    expect(r.stderr()).not.toContain("again, exiting now");
  });

  it("a signal well after the first one still stops at once", async () => {
    const root = await tempDir();
    const r = ferryd(["--root", root, "--port", "0", "--grace", "30"]);
    const port = await listening(r);
    const c = await RawClient.ready(port);
    // A put in progress keeps the graceful stop waiting.
    const id = c.send({ cmd: "put", path: "slow.bin", size: 4 * MiB, handshake: true });
    expect(await c.reply()).toMatchObject({ type: "ready" });
    c.send({ cmd: "data", id, offset: 0, size: 4 * MiB });
    r.proc.kill("SIGTERM");
    await waitFor(() => r.stderr().includes("shutting down"), "shutting down");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    r.proc.kill("SIGTERM");
    expect(await r.exit).toBe(130);
    expect(r.stderr()).toContain("SIGTERM again, exiting now");
  });
});

describe("ferryd start-up errors", () => {
  it("FERRY_SECRET set but empty is refused, as an empty secret file is, instead of running without auth", async () => {
    const root = await tempDir();
    const r = ferryd(["--root", root, "--port", "0"], { FERRY_SECRET: "" });
    expect(await r.exit).toBe(2);
    expect(r.stdout()).toBe("");
    expect(r.stderr()).toMatch(/^ferryd: FERRY_SECRET is set but empty; unset it to run without auth\n/);
  });

  it("a port in use is one line that says so, not Node's `Error: listen EADDRINUSE`", async () => {
    const root = await tempDir();
    const first = ferryd(["--root", root, "--port", "0"]);
    const port = await listening(first);
    const second = ferryd(["--root", root, "--port", String(port)]);
    expect(await second.exit).toBe(1);
    expect(second.stderr()).toBe(
      `ferryd: error: 127.0.0.1:${port} is already in use (another ferryd?); stop it or choose another --port\n`,
    );
  });

  it("ETOOBIG names the sizes as sizes", async () => {
    const root = await tempDir();
    const r = ferryd(["--root", root, "--port", "0", "--max-file-size", "500M"]);
    const c = await RawClient.ready(await listening(r));
    const reply = await c.request({ cmd: "put", path: "big.iso", size: 600 * MiB, handshake: true });
    expect(reply).toMatchObject({ ok: false, code: "ETOOBIG" });
    expect(reply.message).toBe("600.0 MiB is over the server's limit of 500.0 MiB per file");
  });
});

describe("ferryd's log", () => {
  it("says read-only on the listening line", async () => {
    const r = ferryd(["--root", await tempDir(), "--port", "0", "--read-only"]);
    await listening(r);
    await waitFor(() => / INFO listening /.test(r.stderr()), "the listening line");
    expect(r.stderr()).toMatch(/ INFO listening .*mode=read-only/);
    const rw = ferryd(["--root", await tempDir(), "--port", "0"]);
    await listening(rw);
    await waitFor(() => / INFO listening /.test(rw.stderr()), "the listening line");
    expect(rw.stderr()).toMatch(/ INFO listening .*mode=read-write/);
  });

  it("logs mb_per_s, a get and a put cut off by the client, and that the client went away", async () => {
    const root = await tempDir();
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, "big.bin"), randomBytes(64 * MiB));
    await writeFile(path.join(root, "small.txt"), "small");
    const r = ferryd(["--root", root, "--port", "0", "--no-fsync"]);
    const port = await listening(r);
    const lines = (re: RegExp) =>
      r
        .stderr()
        .split("\n")
        .filter((l) => re.test(l));

    const whole = await RawClient.ready(port);
    expect((await whole.get("small.txt")).data.toString()).toBe("small");
    await waitFor(() => lines(/transfer .*path=small\.txt/).length > 0, "the small.txt transfer line");
    expect(r.stderr()).toMatch(/transfer .*path=small\.txt bytes=5 .*mb_per_s=[\d.]+ result=ok/);
    expect(r.stderr()).not.toContain("mbps=");
    whole.close();

    // A client that reads the start of a 64 MiB get and hangs up (a Ctrl-C).
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "get", path: "big.bin" })).toMatchObject({ ok: true, type: "file" });
    expect((await c.frame())?.header.cmd).toBe("data");
    c.close();
    await waitFor(() => lines(/transfer .*path=big\.bin/).length > 0, "the big.bin transfer line");
    const get = lines(/transfer .*path=big\.bin/)[0] ?? "";
    expect(get).toMatch(/cmd=get path=big\.bin bytes=\d+ size=67108864 offset=0 .* result=ECONNLOST/);
    expect(Number(/bytes=(\d+)/.exec(get)?.[1])).toBeLessThan(64 * MiB);

    // And one that stops in the middle of an upload.
    const p = await RawClient.ready(port);
    const data = randomBytes(4 * MiB);
    const id = p.send({ cmd: "put", path: "cut.bin", size: data.length, md5: md5(data), handshake: true });
    expect(await p.reply()).toMatchObject({ type: "ready" });
    p.send({ cmd: "data", id, offset: 0, size: data.length });
    p.sendRaw(data.subarray(0, MiB));
    await new Promise((resolve) => setTimeout(resolve, 200));
    p.close();
    await waitFor(() => lines(/transfer .*path=cut\.bin/).length > 0, "the cut.bin transfer line");
    expect(lines(/transfer .*path=cut\.bin/)[0]).toMatch(/cmd=put .* result=ECONNLOST/);

    await waitFor(() => lines(/ disconnect /).length >= 3, "three disconnect lines");
    const gone = lines(/ disconnect /).slice(1);
    for (const line of gone) expect(line).toMatch(/reason="client went away" detail=/);
    expect(lines(/ WARN | ERROR /)).toEqual([]);
  });
  it("over TLS (the default) too: a client that hangs up mid-get or mid-put went away, not a failure", async () => {
    const root = await tempDir();
    const state = await tempDir();
    await writeFile(path.join(root, "big.bin"), randomBytes(64 * MiB));
    const r = ferryd(["--root", root, "--port", "0", "--no-fsync", "--state-dir", state], {}, { tls: true });
    const port = await listening(r);
    await waitFor(() => /^fingerprint \S+/m.test(r.stdout()), "the fingerprint line");
    const fingerprint = /^fingerprint (\S+)/m.exec(r.stdout())?.[1] as string;
    const lines = (re: RegExp) =>
      r
        .stderr()
        .split("\n")
        .filter((l) => re.test(l));

    const c = await RawClient.ready(port, undefined, fingerprint);
    expect(await c.request({ cmd: "get", path: "big.bin" })).toMatchObject({ ok: true, type: "file" });
    expect((await c.frame())?.header.cmd).toBe("data");
    c.close();
    await waitFor(() => lines(/transfer .*path=big\.bin/).length > 0, "the big.bin transfer line");
    expect(lines(/transfer .*path=big\.bin/)[0]).toMatch(/cmd=get .* result=ECONNLOST/);

    const p = await RawClient.ready(port, undefined, fingerprint);
    const data = randomBytes(4 * MiB);
    const id = p.send({ cmd: "put", path: "cut.bin", size: data.length, md5: md5(data), handshake: true });
    expect(await p.reply()).toMatchObject({ type: "ready" });
    p.send({ cmd: "data", id, offset: 0, size: data.length });
    p.sendRaw(data.subarray(0, MiB));
    await new Promise((resolve) => setTimeout(resolve, 200));
    p.close();
    await waitFor(() => lines(/transfer .*path=cut\.bin/).length > 0, "the cut.bin transfer line");
    expect(lines(/transfer .*path=cut\.bin/)[0]).toMatch(/cmd=put .* result=ECONNLOST/);

    await waitFor(() => lines(/ disconnect /).length >= 2, "two disconnect lines");
    for (const line of lines(/ disconnect /)) expect(line).toMatch(/reason="client went away" detail=/);
    expect(lines(/ WARN | ERROR /)).toEqual([]);
  });
});
