#!/usr/bin/env node
// Kernel entry point of the project's kernelspec: brings dist/ up to date with lib/ (incremental tsc),
// makes `import ... from 'tangent-lab'` resolvable from any folder, then hands over to the project's own tslab.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withBuildLock } from './build-lock.mjs';
import { ensureSelfLink, projectRoot, providedPackages, withResolveHook } from './project.mjs';

const root = projectRoot();
ensureSelfLink(root);
const require = createRequire(`${root}/package.json`);
const tsc = require.resolve('typescript/bin/tsc');
// Two kernels started at once after an edit of lib/ (two notebooks opened together) would both rewrite dist/
// while the other loads it: the build runs under a lock file, the second kernel waits and finds nothing to do.
const build = withBuildLock(join(root, 'node_modules', '.tangent-kernel-build.lock'), () =>
  spawnSync(process.execPath, [tsc, '-p', `${root}/tsconfig.lib.json`, '--pretty', 'false'], { cwd: root, encoding: 'utf8' }),
);
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
// The kernel runs in its own session, so a closed terminal or a killed runner does not reach it: it ends
// when the process that started it (jupyter_client sets JPY_PARENT_PID) is gone.
try {
  const { exitWithParent } = await import(pathToFileURL(join(root, 'dist', 'lib', 'run', 'parent-watch.js')).href);
  exitWithParent({ parentPid: Number(process.env.JPY_PARENT_PID) || process.ppid });
} catch (e) {
  process.stderr.write(`tangent-lab: cannot watch the parent process (${e.message}); the kernel will outlive it\n`);
}
// The library resolves, with its types, from a notebook in any folder (the kernel's cwd is the notebook's folder,
// outside the checkout for a researcher's own notebooks): tslab's compiler host and its require serve these
// packages from their folders (scripts/tslab-patches/provided-packages-*.mjs).
process.env.TSLAB_PROVIDED_PACKAGES = JSON.stringify(providedPackages(root, process.env.TSLAB_PROVIDED_PACKAGES));
// ... and for the node processes the notebook starts (workers running a module beside the notebook, Slurm tasks):
// a resolve hook, as node's ES modules ignore NODE_PATH (scripts/resolve-anywhere.mjs).
process.env.NODE_OPTIONS = withResolveHook(root, process.env.NODE_OPTIONS);
// ... and in this process, where the library imports such a module itself (a sweep with one worker).
await import(pathToFileURL(join(root, 'scripts', 'resolve-anywhere.mjs')).href);
const tslab = require('tslab/dist/main.js');
tslab.startKernel({ configPath, enableFindLocal: false });
