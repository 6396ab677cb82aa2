import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { hostKey, KnownHosts } from "./known-hosts.js";

const A = `SHA256:${"A".repeat(43)}`;
const B = `SHA256:${"B".repeat(42)}E`;

async function file(content?: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "ferry-kh-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const f = path.join(dir, "sub", "known_hosts");
  if (content !== undefined) {
    await writeFile(path.join(dir, "flat"), content);
    return path.join(dir, "flat");
  }
  return f;
}

describe("KnownHosts", () => {
  it("writes host:port with the host in lower case and IPv6 in brackets", () => {
    expect(hostKey("Example.COM", 2121)).toBe("example.com:2121");
    expect(hostKey("::1", 9)).toBe("[::1]:9");
  });

  it("creates the file (0600) and its folder on the first add, then finds the entry by host and port", async () => {
    const kh = new KnownHosts(await file());
    expect(await kh.lookup("h", 1)).toEqual([]);
    expect(await kh.add("H", 1, A)).toMatchObject({ line: 1, fingerprint: A });
    expect((await stat(kh.file)).mode & 0o777).toBe(0o600);
    expect(await kh.lookup("h", 1)).toEqual([{ host: "h", port: 1, fingerprint: A, line: 1 }]);
    expect(await kh.lookup("h", 2)).toEqual([]);
    await kh.add("::1", 2121, B);
    expect(await kh.lookup("::1", 2121)).toMatchObject([{ fingerprint: B, line: 2 }]);
    expect(await readFile(kh.file, "utf8")).toBe(`h:1 ${A}\n[::1]:2121 ${B}\n`);
  });

  it("reads comments, blanks, hex fingerprints and junk lines; line numbers count them all", async () => {
    const hex = Array.from({ length: 32 }, () => "00").join(":");
    const kh = new KnownHosts(
      await file(`# mine\n\nnot an entry\nh:1 ${hex}\nh:99999 ${A}\nh:1 ${A} trailing words`),
    );
    const found = await kh.lookup("h", 1);
    // Line 5 has a port past 65535; the hex spelling reads as the same SHA256: form.
    expect(found.map((e) => e.line)).toEqual([4, 6]);
    expect(found[0]?.fingerprint).toBe(`SHA256:${Buffer.alloc(32).toString("base64").replace(/=$/, "")}`);
    expect(found[1]?.fingerprint).toBe(A);
    // A file without a final newline gets one before the next entry.
    await kh.add("g", 2, B);
    expect((await readFile(kh.file, "utf8")).endsWith(`trailing words\ng:2 ${B}\n`)).toBe(true);
  });

  it("remove drops every entry of one host:port and keeps everything else byte for byte", async () => {
    const kh = new KnownHosts(await file(`# keep me\nh:1 ${A}\nother:1 ${B}\nh:1 ${B}\n`));
    expect(await kh.remove("h", 1)).toBe(2);
    expect(await readFile(kh.file, "utf8")).toBe(`# keep me\nother:1 ${B}\n`);
    expect(await kh.remove("h", 1)).toBe(0);
    expect(await new KnownHosts(path.join(path.dirname(kh.file), "missing")).remove("h", 1)).toBe(0);
  });

  it("refuses to record something that is not a fingerprint", async () => {
    const kh = new KnownHosts(await file());
    await expect(kh.add("h", 1, "SHA256:short")).rejects.toMatchObject({ code: "EHOSTKEY" });
  });
});
