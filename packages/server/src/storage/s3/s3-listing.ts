import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type Entry, MAX_NAME_BYTES } from "@ferry/protocol";
import type { S3Place } from "./s3-place.js";
import { headFile } from "./s3-stat.js";

/** Keys per ListObjectsV2 page (S3's own maximum): one page is all a listing holds at a time. */
export const LIST_PAGE_KEYS = 1000;
/** HeadObject requests in flight per listing page, for each file's md5 and mtime (user metadata). */
export const LIST_HEAD_CONCURRENCY = 16;

function validName(name: string): boolean {
  return name.length > 0 && !name.includes("/") && Buffer.byteLength(name, "utf8") <= MAX_NAME_BYTES;
}

const byNameBytes = (a: Entry, b: Entry) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

/**
 * The entries of the directory at key prefix `dirPrefix`, one ListObjectsV2 page (with Delimiter
 * "/") at a time: sub-directories from the common prefixes (size 0, mtime 0: a prefix has no date of
 * its own), files from the objects, each HEAD'ed for the md5 and mtime that only its metadata holds.
 * The directory's own marker and ferryd's internal objects are skipped. Each page comes sorted by
 * the names' UTF-8 bytes; across pages S3's key order holds, which differs from name order only
 * where a directory's name is a prefix of a file's name followed by a byte below "/" (`a` and
 * `a-b`) and the two fall on different pages.
 */
export async function* listPages(place: S3Place, dirPrefix: string): AsyncGenerator<Entry[]> {
  let token: string | undefined;
  do {
    const out = await place.client.send(
      new ListObjectsV2Command({
        Bucket: place.bucket,
        Prefix: dirPrefix,
        Delimiter: "/",
        MaxKeys: LIST_PAGE_KEYS,
        ContinuationToken: token,
      }),
    );
    const entries: Entry[] = [];
    for (const p of out.CommonPrefixes ?? []) {
      if (!p.Prefix || place.keys.isInternal(dirPrefix, p.Prefix)) continue;
      const name = place.keys.nameIn(dirPrefix, p.Prefix);
      if (validName(name)) entries.push({ name, type: "dir", size: 0, mtime: 0 });
    }
    const files = (out.Contents ?? []).filter(
      (o) => o.Key !== undefined && o.Key !== dirPrefix && validName(place.keys.nameIn(dirPrefix, o.Key)),
    );
    let next = 0;
    const head = async () => {
      while (next < files.length) {
        const o = files[next++];
        const key = o?.Key as string;
        const file = await headFile(place, key);
        if (!file) continue; // deleted since the page was listed
        const name = place.keys.nameIn(dirPrefix, key);
        entries.push({
          name,
          type: "file",
          size: file.size,
          mtime: file.mtime,
          ...(file.md5 ? { md5: file.md5 } : {}),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_HEAD_CONCURRENCY, files.length) }, head));
    entries.sort(byNameBytes);
    yield entries;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}
