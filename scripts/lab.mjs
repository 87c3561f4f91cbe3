#!/usr/bin/env node
// `npm run lab`: set-up, then JupyterLab (or the classic notebook where JupyterLab is absent) in notebooks/,
// with the project kernel "TypeScript (tangent-lab)" available. Extra arguments go to Jupyter.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setup } from './setup.mjs';
import { projectRoot } from './project.mjs';
import { privateKernelEnv } from './kernel-install.mjs';

let python;
try {
  python = setup();
} catch (e) {
  process.stderr.write(`setup: ${e.message}\n`);
  process.exit(1);
}
const hasLab = spawnSync(python, ['-c', 'import jupyterlab'], { stdio: 'ignore' }).status === 0;
const app = hasLab ? 'jupyterlab' : 'notebook';
process.stdout.write(`starting ${hasLab ? 'JupyterLab' : 'the classic Jupyter notebook (JupyterLab is not installed)'}; ` +
  `choose the kernel "TypeScript (tangent-lab)"; after editing lib/, restart the kernel\n`);
// Jupyter refuses to run as root without --allow-root (containers, CI machines).
const extra = process.getuid?.() === 0 ? ['--allow-root'] : [];
const child = spawn(python, ['-m', app, ...extra, ...process.argv.slice(2)], { cwd: join(projectRoot(), 'notebooks'), stdio: 'inherit', env: privateKernelEnv() });
process.on('SIGINT', () => {}); // Jupyter handles Ctrl-C (it asks for confirmation)
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
