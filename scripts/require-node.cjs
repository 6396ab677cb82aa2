// .ci/run preloads this (NODE_OPTIONS=--require) into every Node process of a test run on a chosen Node
// version: pnpm, vitest and its workers, and the ferryd and ferry processes the tests spawn. A process
// running any other Node stops at once, so a PATH mix-up fails the run instead of quietly testing the
// machine's Node again.
"use strict";

const wanted = process.env.FERRY_TEST_NODE;
if (wanted && process.version !== wanted) {
  process.stderr.write(
    `.ci/run: this process runs Node ${process.version} (${process.execPath}), not ${wanted} as asked\n`,
  );
  process.exit(1);
}
