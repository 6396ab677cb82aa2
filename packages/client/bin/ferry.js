#!/usr/bin/env node
// The CLI as one file (see the build script): loading its ~100 modules one by one took twice as long
// as Node's own start-up.
import "../dist/cli/main.bundle.js";
