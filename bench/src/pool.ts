/**
 * Runs `task` for every index 0..count-1 with at most `window` running at once, in index order of
 * start. On one ferry session that keeps `window` requests in flight: the library pipelines them.
 * Rejects with the first failure after letting the started tasks settle.
 */
export async function inWindow(
  count: number,
  window: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async () => {
    while (next < count && !failed) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  if (failed) throw failure;
}
