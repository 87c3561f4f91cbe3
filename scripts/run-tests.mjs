#!/usr/bin/env node
// Runs the compiled tests dist/test/*.test.js (those whose test/*.test.ts still exists) with node's test
// runner. An explicit file list means the same on every Node >= 20 (test arguments became glob patterns in 21).
// Arguments filter by file name: `npm test -- backend runner`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit', env: privateKernelEnv(root) });
process.exit(r.status ?? 1);
