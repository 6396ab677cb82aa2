import { randomBytes } from "node:crypto";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { encodeFrame } from "@ferry/protocol";
import { type RunningFerryd, spawnFerryd } from "@ferry/test-fixtures";
import { type S3TestPlace, s3PlaceForTest, s3SkipReason } from "@ferry/test-fixtures/s3";
import { describe, expect, it } from "vitest";
import { startServer } from "../src/index.js";
import { S3_TEST_PART_SIZE } from "./backends.js";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { until } from "./helpers/wait.js";

/**
 * What only the S3 backend must show, against a real object store (the run's Ceph RGW, or the
 * endpoint in FERRY_TEST_S3_*): multipart uploads left behind by nothing, directories as markers,
 * and two ferryd processes serving one bucket. The verbs themselves run in storage-contract.test.ts.
 */
const skip = await s3SkipReason();

async function uploadsIn(place: S3TestPlace): Promise<number> {
  const out = await place.client.send(
    new ListMultipartUploadsCommand({ Bucket: place.bucket, Prefix: place.prefix }),
  );
  return out.Uploads?.length ?? 0;
}

async function keysIn(place: S3TestPlace): Promise<string[]> {
  const out = await place.client.send(
    new ListObjectsV2Command({ Bucket: place.bucket, Prefix: place.prefix }),
  );
  return (out.Contents ?? []).map((o) => (o.Key as string).slice(place.prefix.length));
}

async function inProcess(place: S3TestPlace, extra: Record<string, unknown> = {}) {
  Object.assign(process.env, place.env);
  const server = await startServer({
    port: 0,
    tls: false,
    storage: place.url,
    s3: { endpoint: place.endpoint.endpoint, partSize: S3_TEST_PART_SIZE },
    ...extra,
  });
  return server;
}

/** A real ferryd (TLS, pinned) serving the place; killed when the test ends. */
function ferrydOn(place: S3TestPlace): Promise<RunningFerryd> {
  return spawnFerryd({
    args: ["--storage", place.url, "--s3-endpoint", place.endpoint.endpoint, "--s3-part-size", "5M"],
    env: place.env,
  });
}

const ready = (d: RunningFerryd) => RawClient.ready(d.port, undefined, d.fingerprint ?? undefined);

describe.skipIf(skip !== null)(`the S3 backend${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("a wrong md5 aborts the multipart upload: no object, no upload, no state left in the bucket", async () => {
    const place = await s3PlaceForTest();
    const server = await inProcess(place);
    try {
      const c = await RawClient.ready(server.port);
      const data = randomBytes(3 * S3_TEST_PART_SIZE + 11);
      const flipped = Buffer.from(data);
      flipped[S3_TEST_PART_SIZE + 5] = (flipped[S3_TEST_PART_SIZE + 5] as number) ^ 1;
      const id = c.send({ cmd: "put", path: "big.bin", size: data.length, md5: md5(data) });
      c.sendData(id, 0, flipped);
      expect(await c.reply()).toMatchObject({ ok: false, code: "ECHECKSUM" });
      expect(await keysIn(place)).toEqual([]);
      expect(await uploadsIn(place)).toBe(0);
      expect(await c.request({ cmd: "stat", path: "big.bin" })).toMatchObject({ code: "ENOENT" });
      // The same bytes, unflipped, as a handshake put with a trailer: whole, with its md5 in metadata.
      const r = await c.request({ cmd: "put", path: "big.bin", size: data.length, handshake: true });
      c.sendData(r.id as number, 0, data);
      c.send({ cmd: "end", id: r.id, md5: md5(data) });
      expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
      const head = await place.client.send(
        new GetObjectCommand({ Bucket: place.bucket, Key: `${place.prefix}big.bin` }),
      );
      expect(head.Metadata?.["ferry-md5"]).toBe(md5(data));
      await head.Body?.transformToByteArray();
      expect(await c.list("/")).toMatchObject([{ name: "big.bin", size: data.length, md5: md5(data) }]);
      expect(await uploadsIn(place)).toBe(0);
      c.close();
    } finally {
      await server.close();
    }
  });

  it("offers md5 alone: its hello says so, and a request in xxh128 or sha256 is EALG with nothing done", async () => {
    const place = await s3PlaceForTest();
    const server = await inProcess(place);
    try {
      const c = await RawClient.connect(server.port, "127.0.0.1");
      expect(await c.request({ cmd: "hello", version: 1, client: "raw-test/1" })).toMatchObject({
        ok: true,
        hashes: ["md5"],
      });
      const data = Buffer.from("hello");
      expect(await c.put("a.txt", data)).toMatchObject({ ok: true, md5: md5(data) });
      for (const req of [
        { cmd: "put", path: "b.txt", size: 5, alg: "xxh128" },
        { cmd: "get", path: "a.txt", offset: 0, alg: "xxh128" },
        { cmd: "list", path: "/", alg: "sha256" },
        { cmd: "stat", path: "a.txt", alg: "xxh128" },
        { cmd: "sum", path: "a.txt", alg: "sha256" },
      ]) {
        expect(await c.request(req), req.cmd).toMatchObject({ ok: false, code: "EALG" });
      }
      expect(await keysIn(place)).toEqual(["a.txt"]);
      expect(await c.request({ cmd: "sum", path: "a.txt" })).toMatchObject({ ok: true, md5: md5(data) });
      c.close();
    } finally {
      await server.close();
    }
  });

  it("an empty directory is a marker object; a directory emptied by a delete stays", async () => {
    const place = await s3PlaceForTest();
    const server = await inProcess(place);
    try {
      const c = await RawClient.ready(server.port);
      expect(await c.request({ cmd: "mkdir", path: "empty" })).toMatchObject({ ok: true });
      expect(await c.put("d/only.txt", Buffer.from("x"), { parents: true })).toMatchObject({ ok: true });
      expect(await c.request({ cmd: "delete", path: "d/only.txt" })).toMatchObject({ ok: true });
      expect((await keysIn(place)).sort()).toEqual(["d/", "empty/"]);
      expect(await c.list("/")).toMatchObject([
        { name: "d", type: "dir" },
        { name: "empty", type: "dir" },
      ]);
      expect(await c.list("d")).toEqual([]);
      // Siblings whose keys sort between "d" and "d/" do not hide the directory from a put's check.
      expect(await c.put("d-x", Buffer.from("1"))).toMatchObject({ ok: true });
      expect(await c.put("d.y", Buffer.from("2"))).toMatchObject({ ok: true });
      expect(await c.put("d", Buffer.from("3"), { overwrite: true })).toMatchObject({ code: "EISDIR" });
      expect(await c.request({ cmd: "mkdir", path: "d" })).toMatchObject({ code: "EEXIST" });
      expect(await c.request({ cmd: "delete", path: "d" })).toMatchObject({ ok: true });
      expect(await c.request({ cmd: "delete", path: "d-x" })).toMatchObject({ ok: true });
      expect(await c.request({ cmd: "delete", path: "d.y" })).toMatchObject({ ok: true });
      expect(await keysIn(place)).toEqual(["empty/"]);
      c.close();
    } finally {
      await server.close();
    }
  });

  it("a partial older than --stale-partial-hours is aborted when a ferryd opens the bucket", async () => {
    const place = await s3PlaceForTest();
    const first = await inProcess(place);
    const data = randomBytes(2 * S3_TEST_PART_SIZE + 3);
    try {
      const c = await RawClient.ready(first.port);
      const r = await c.request({
        cmd: "put",
        path: "cut.bin",
        size: data.length,
        md5: md5(data),
        handshake: true,
      });
      c.socket.write(encodeFrame({ cmd: "data", id: r.id as number, offset: 0, size: data.length }));
      c.socket.write(data.subarray(0, S3_TEST_PART_SIZE + 100));
      await until(
        async () => ((await keysIn(place)).some((k) => k.startsWith(".ferry-staging/")) ? true : undefined),
        "the upload's state",
        1000,
      );
      c.close();
    } finally {
      await first.close();
    }
    expect(await uploadsIn(place)).toBe(1);
    const second = await inProcess(place, { stalePartialMs: 0 });
    try {
      expect(await uploadsIn(place)).toBe(0);
      expect(await keysIn(place)).toEqual([]);
      const c = await RawClient.ready(second.port);
      const r = await c.request({
        cmd: "put",
        path: "cut.bin",
        size: data.length,
        md5: md5(data),
        handshake: true,
      });
      expect(r).toMatchObject({ ok: true, type: "ready", offset: 0 });
      c.close();
    } finally {
      await second.close();
    }
  });

  it("two ferryd processes on one bucket: put via A, get via B; a put cut by kill -9 on A resumes on B; 20 clients over both", async () => {
    const place = await s3PlaceForTest();
    let a = await ferrydOn(place);
    const b = await ferrydOn(place);

    const small = randomBytes(300_000);
    const ca = await ready(a);
    expect(await ca.put("dir/small.bin", small, { parents: true })).toMatchObject({
      ok: true,
      md5: md5(small),
    });
    const cb = await ready(b);
    const got = await cb.get("dir/small.bin");
    expect(got.reply).toMatchObject({ ok: true, md5: md5(small) });
    expect(got.data.equals(small)).toBe(true);
    expect(await cb.list("dir")).toMatchObject([{ name: "small.bin", size: small.length, md5: md5(small) }]);

    // A handshake put through A, cut by kill -9 once the store holds two whole parts of it.
    const big = randomBytes(4 * S3_TEST_PART_SIZE + 12_345);
    const put = { cmd: "put", path: "dir/big.bin", size: big.length, md5: md5(big), handshake: true };
    const r = await ca.request(put);
    expect(r).toMatchObject({ ok: true, offset: 0 });
    ca.socket.write(encodeFrame({ cmd: "data", id: r.id as number, offset: 0, size: big.length }));
    ca.socket.write(big.subarray(0, 3 * S3_TEST_PART_SIZE));
    const stateKey = (await until(
      async () => (await keysIn(place)).find((k) => k.startsWith(".ferry-staging/")),
      "state",
      1000,
    )) as string;
    await until(
      async () => {
        const out = await place.client.send(
          new GetObjectCommand({ Bucket: place.bucket, Key: place.prefix + stateKey }),
        );
        const state = JSON.parse((await out.Body?.transformToString()) ?? "{}") as { parts: unknown[] };
        return state.parts.length >= 2 ? true : undefined;
      },
      "two parts in the state",
      1000,
    );
    await a.stop("SIGKILL");
    ca.close();

    const offer = await cb.request(put);
    expect(offer).toMatchObject({ ok: true, type: "ready" });
    const offset = offer.offset as number;
    expect(offset % S3_TEST_PART_SIZE).toBe(0);
    expect(offset).toBeGreaterThanOrEqual(2 * S3_TEST_PART_SIZE);
    expect(offer.prefixMd5).toBe(md5(big.subarray(0, offset)));
    cb.sendData(offer.id as number, offset, big.subarray(offset));
    expect(await cb.reply()).toMatchObject({ ok: true, type: "done", md5: md5(big) });
    const back = await cb.get("dir/big.bin");
    expect(back.data.equals(big)).toBe(true);
    expect(back.reply.md5).toBe(md5(big));
    expect(await uploadsIn(place)).toBe(0);
    cb.close();

    // 20 clients, half on a restarted A and half on B: each puts its own file, then reads another's
    // through the other server.
    a = await ferrydOn(place);
    const servers = [a, b];
    const files = Array.from({ length: 20 }, (_, i) =>
      randomBytes(i % 5 === 0 ? S3_TEST_PART_SIZE + 999 : 20_000 + i * 997),
    );
    const clients = await Promise.all(files.map((_, i) => ready(servers[i % 2] as RunningFerryd)));
    const puts = await Promise.all(
      clients.map((c, i) => c.put(`many/f${i}.bin`, files[i] as Buffer, { parents: true })),
    );
    for (const [i, reply] of puts.entries())
      expect(reply, `put ${i}`).toMatchObject({ ok: true, md5: md5(files[i] as Buffer) });
    const gets = await Promise.all(clients.map((c, i) => c.get(`many/f${(i + 1) % 20}.bin`)));
    for (const [i, g] of gets.entries())
      expect(g.data.equals(files[(i + 1) % 20] as Buffer), `get ${i}`).toBe(true);
    const listed = (await clients[0]?.list("many")) as Header[];
    expect(listed).toHaveLength(20);
    for (const c of clients) c.close();
  });
});
