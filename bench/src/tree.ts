import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";

const FILES_PER_DIR_DIVISOR = 10;
const COMPARE_CHUNK = 1024 * 1024;

/** `count` files of `size` pseudo-random bytes in 10 subdirectories (d00…d09), written once. */
export async function ensureTree(dir: string, count: number, size: number): Promise<void> {
  const done = await expectFiles(dir, count).then(
    () => true,
    () => false,
  );
  if (done) return;
  const perDir = Math.ceil(count / FILES_PER_DIR_DIVISOR);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(Math.floor(i / perDir)).padStart(2, "0")}`);
    await mkdir(sub, { recursive: true });
    const bytes = Buffer.alloc(size);
    let block = createHash("sha256").update(`mirror ${i}`).digest();
    for (let at = 0; at < size; at += block.length) {
      block.copy(bytes, at);
      block = createHash("sha256").update(block).digest();
    }
    await writeFile(join(sub, `f${String(i).padStart(4, "0")}.bin`), bytes);
  }
}

/** The regular files under `dir`, as paths relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) out.push(relative(dir, path));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Throws unless `dir` holds exactly `count` files (in its subdirectories). */
export async function expectFiles(dir: string, count: number): Promise<void> {
  const n = (await listFiles(dir)).length;
  if (n !== count) throw new Error(`${dir} holds ${n} files, expected ${count}`);
}

/** Throws unless `copy` holds the same files as `original`, each the same bytes (small files). */
export async function expectSameTree(original: string, copy: string): Promise<void> {
  const [a, b] = await Promise.all([listFiles(original), listFiles(copy)]);
  if (a.join("\n") !== b.join("\n"))
    throw new Error(`${copy} holds ${b.length} files, ${original} ${a.length} (or other names)`);
  for (const name of a) {
    const [x, y] = await Promise.all([readFile(join(original, name)), readFile(join(copy, name))]);
    if (!x.equals(y)) throw new Error(`${join(copy, name)} differs from ${join(original, name)}`);
  }
}

/** Throws unless the two files hold the same bytes, compared in 1 MiB chunks (never whole in memory). */
export async function expectSameFile(original: string, copy: string): Promise<void> {
  const [sa, sb] = await Promise.all([stat(original), stat(copy)]);
  if (sa.size !== sb.size) throw new Error(`${copy} is ${sb.size} bytes, ${original} ${sa.size}`);
  const [fa, fb] = await Promise.all([open(original), open(copy)]);
  try {
    const ba = Buffer.alloc(COMPARE_CHUNK);
    const bb = Buffer.alloc(COMPARE_CHUNK);
    for (let at = 0; at < sa.size; at += COMPARE_CHUNK) {
      const [ra, rb] = await Promise.all([
        fa.read(ba, 0, COMPARE_CHUNK, at),
        fb.read(bb, 0, COMPARE_CHUNK, at),
      ]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead)))
        throw new Error(`${copy} differs from ${original} in the MiB at ${at}`);
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
