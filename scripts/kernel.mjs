#!/usr/bin/env node
// Kernel entry point of the project's kernelspec: brings dist/ up to date with lib/ (incremental tsc),
// makes `import ... from 'tangent-lab'` resolvable, then hands over to the project's own tslab.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ensureSelfLink, projectRoot } from './project.mjs';

const root = projectRoot();
ensureSelfLink(root);
const require = createRequire(`${root}/package.json`);
const tsc = require.resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-p', `${root}/tsconfig.lib.json`, '--pretty', 'false'], {
  cwd: root,
  encoding: 'utf8',
});
if (build.status !== 0) {
  // Type errors still emit JavaScript; the kernel starts with it and the errors go to the server log.
  process.stderr.write(`tangent-lab: lib/ has type errors (the kernel still starts):\n${build.stdout}${build.stderr}\n`);
}
const configIndex = process.argv.indexOf('--config-path');
const configPath = configIndex > 0 ? process.argv[configIndex + 1] : process.argv[2];
if (!configPath) {
  process.stderr.write('usage: kernel.mjs --config-path <connection-file>\n');
  process.exit(2);
}
const tslab = require('tslab/dist/main.js');
tslab.startKernel({ configPath, enableFindLocal: false });
