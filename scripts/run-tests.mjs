#!/usr/bin/env node
// Runs the compiled tests dist/test/*.test.js (those whose test/*.test.ts still exists) with node's test
// runner. An explicit file list means the same on every Node >= 20 (test arguments became glob patterns in 21).
// Arguments filter by file name: `npm test -- backend runner`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './project.mjs';
import { privateKernelEnv } from './kernel-install.mjs';

const root = projectRoot();
const dir = join(root, 'dist', 'test');
const filters = process.argv.slice(2);
const files = (existsSync(dir) ? readdirSync(dir) : [])
  .filter((f) => f.endsWith('.test.js') && existsSync(join(root, 'test', f.replace(/\.js$/, '.ts'))))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .map((f) => join('dist', 'test', f));
if (files.length === 0) {
  process.stderr.write(`no compiled tests in dist/test${filters.length ? ` matching ${filters.join(', ')}` : ''}\n`);
  process.exit(1);
}
// Every kernel brings dist/ up to date at its start (scripts/kernel.mjs: tsc -p tsconfig.lib.json, with its own
// .tsbuildinfo-lib). After `tsc -p tsconfig.json` in a fresh clone that file does not exist yet, so the first kernels
// started by the parallel test files each re-emitted all of lib/ and scripts/ (413 files: 18 s on a quiet machine; at
// load 5 the first kernel answered 38 s after its start), rewriting modules that other test files and kernels were
// importing. Built once here, before anything runs in parallel, every kernel finds it up to date and writes nothing
// (test/run-tests-build.test.ts checks this; TANGENT_KERNEL_BUILD_DONE tells it the build ran).
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const lib = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.lib.json'), '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
if (lib.status !== 0) {
  // As in the kernel: type errors still emit JavaScript; the tests say what they break.
  process.stderr.write(`run-tests: tsc -p tsconfig.lib.json reported errors:\n${lib.stdout}${lib.stderr}\n`);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...privateKernelEnv(root), TANGENT_KERNEL_BUILD_DONE: '1' },
});
process.exit(r.status ?? 1);
