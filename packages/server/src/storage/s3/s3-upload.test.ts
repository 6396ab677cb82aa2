import { describe, expect, it } from "vitest";
import { S3Place } from "./s3-place.js";
import { beginS3Upload } from "./s3-upload.js";

const MiB = 1024 * 1024;

describe("small S3 uploads share the place's upload memory", () => {
  it("a write waits while the others hold it all, and goes on when one ends", async () => {
    // No request reaches the store here: writes only buffer, aborts only give memory back.
    const place = S3Place.open({
      bucket: "unused",
      prefix: "",
      endpoint: "http://127.0.0.1:9",
      partSize: 5 * MiB,
      partsInFlight: 1,
      uploadMemory: 10 * MiB,
    });
    try {
      const target = (n: number) => ({ path: `f${n}`, clientPath: `f${n}`, key: `f${n}`, size: 5 * MiB });
      const [a, b, c] = await Promise.all([0, 1, 2].map((n) => beginS3Upload(place, target(n), false)));
      await a?.write(Buffer.alloc(5 * MiB));
      await b?.write(Buffer.alloc(5 * MiB));
      expect(place.uploadMemory.available).toBe(0);
      let wrote = false;
      const third = c?.write(Buffer.alloc(5 * MiB)).then(() => {
        wrote = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(wrote).toBe(false);
      await a?.abort();
      await third;
      expect(wrote).toBe(true);
      await b?.abort();
      await c?.abort();
      expect(place.uploadMemory.available).toBe(10 * MiB);
    } finally {
      place.close();
    }
  });
});
