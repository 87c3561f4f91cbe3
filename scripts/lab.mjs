#!/usr/bin/env node
// `npm run lab`: set-up, then JupyterLab 4 from the project venv (.venv) in notebooks/, with the project
// kernel "TypeScript (tangent-lab)" available. Without JupyterLab (no venv), the classic notebook.
// Extra arguments go to Jupyter, e.g. `npm run lab -- --notebook-dir=/some/folder` or `npm run lab -- --no-browser`.
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
const version = (mod) => {
  const r = spawnSync(python, ['-c', `import ${mod}; print(${mod}.__version__)`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};
const lab = version('jupyterlab');
const app = lab ? 'jupyterlab' : 'notebook';
const args = process.argv.slice(2);
process.stdout.write(
  `starting ${lab ? `JupyterLab ${lab}` : `the Jupyter notebook ${version('notebook') ?? ''} (JupyterLab is not installed: see environment.md)`} ` +
    `from ${python}\n` +
    `  folder: ${args.some((a) => a.startsWith('--notebook-dir') || a.includes('root_dir')) ? 'as given' : join(projectRoot(), 'notebooks')}` +
    ` (another folder: npm run lab -- --notebook-dir=/path/to/folder)\n` +
    `  kernel: "TypeScript (tangent-lab)"; after editing lib/, restart the kernel\n`,
);
// Jupyter refuses to run as root without --allow-root (containers, CI machines).
const extra = process.getuid?.() === 0 ? ['--allow-root'] : [];
const child = spawn(python, ['-m', app, ...extra, ...args], { cwd: join(projectRoot(), 'notebooks'), stdio: 'inherit', env: privateKernelEnv() });
process.on('SIGINT', () => {}); // Jupyter handles Ctrl-C (it asks for confirmation)
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
