#!/usr/bin/env node
// The command's entry (kept by hand, not built): the bundle lives in dist/cli/ beside the action's.
import './cli/index.js'
