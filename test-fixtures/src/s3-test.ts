import { createS3Place, type S3Plan, type S3TestPlace } from "./object-store.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Set by s3-global-setup: how this run's S3 tests reach a store. */
    ferryS3: S3Plan;
  }
}

/** This run's S3 plan (inside a vitest test file; see s3-global-setup). */
export async function s3Plan(): Promise<S3Plan> {
  const { inject } = await import("vitest");
  return inject("ferryS3") ?? { mode: "none", reason: "vitest ran without test-fixtures' s3-global-setup" };
}

/** Why the S3 tests of this run are skipped, or null when they run. */
export async function s3SkipReason(): Promise<string | null> {
  const plan = await s3Plan();
  return plan.mode === "none" ? plan.reason : null;
}

/** A fresh bucket or prefix for the current test, emptied and removed when it finishes. */
export async function s3PlaceForTest(): Promise<S3TestPlace> {
  const plan = await s3Plan();
  if (plan.mode === "none") throw new Error(`no object store: ${plan.reason}`);
  const { onTestFinished } = await import("vitest");
  const place = await createS3Place(plan);
  onTestFinished(() => place.remove());
  return place;
}
