/**
 * The object-store helpers (a separate entry point, so that tests without S3 never load the AWS
 * SDK): the run's RGW or external endpoint, a fresh bucket or prefix per test, and cleanup.
 */
export {
  CEPH_RGW_SCRIPT,
  createBucket,
  createS3Place,
  emptyS3Prefix,
  freeRgwPort,
  planS3,
  type S3Endpoint,
  type S3Plan,
  type S3TestPlace,
  s3EndpointOf,
  startRgw,
  stopRgw,
  testS3Client,
} from "./object-store.js";
export { s3PlaceForTest, s3Plan, s3SkipReason } from "./s3-test.js";
