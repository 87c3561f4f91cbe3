// scripts/run-tests.mjs builds the kernel's dist/ (tsconfig.lib.json) before the test files run in parallel, so
// that a kernel started by any of them (scripts/kernel.mjs runs the same build at its start) has nothing to write
// while other files import those modules. `tsc -b --dry` asks the same question without writing anything.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { root, run } from './kernel-support.js';

test(
  "a kernel started during the tests finds its build of lib/ up to date (run-tests.mjs built it first)",
  { skip: process.env.TANGENT_KERNEL_BUILD_DONE !== '1' && 'not started by scripts/run-tests.mjs, which builds first', timeout: 120_000 },
  async () => {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-b', join(root, 'tsconfig.lib.json'), '--dry', '--pretty', 'false']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // "would update timestamps": sources touched without a change, which the kernel's `tsc -p` does not rewrite.
    assert.match(r.stdout, /is up to date|would update timestamps/, r.stdout);
    assert.doesNotMatch(r.stdout, /would build/, r.stdout);
  },
);
