export { compileFilter, type FilterRule, globRegExp, type PathFilter } from "./filter.js";
export {
  type Conflict,
  checksumsNeeded,
  type MirrorPlan,
  type PlannedDelete,
  type PlannedTransfer,
  type PlanOptions,
  planMirror,
  type TransferReason,
  type Tree,
  type TreeEntry,
} from "./plan.js";
export {
  MIRROR_WINDOW,
  type MirrorHooks,
  type MirrorOptions,
  type MirrorResult,
  type MirrorTransfer,
  mirror,
} from "./run.js";
export { type LocalWalk, type MirrorNote, walkLocal } from "./walk-local.js";
export { type RemoteWalk, remotePath, walkRemote } from "./walk-remote.js";
