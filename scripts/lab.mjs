#!/usr/bin/env node
// `npm run lab`: set-up, then JupyterLab 4 from the project venv (.venv) in notebooks/, with the project
// kernel "TypeScript (tangent-lab)" available. Without JupyterLab (no venv), the classic notebook.
// Extra arguments go to Jupyter, e.g. `npm run lab -- --notebook-dir=/some/folder` or `npm run lab -- --no-browser`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setup } from './setup.mjs';
import { projectRoot } from './project.mjs';
import { privateKernelEnv } from './kernel-install.mjs';

/**
 * JupyterLab's announcements: with a news feed configured, the first start asks "Would you like to get notified
 * about official Jupyter news?", and the server checks PyPI for a newer JupyterLab. Off (as in the tests); a
 * user's own `--LabApp.news_url=...` comes later on the command line and wins.
 */
export const QUIET_LAB = ['--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'];

/** The arguments after `python`: the app module, the announcement switches (JupyterLab only), root's flag, the user's. */
export function labArguments({ app, userArgs = [], isRoot = false }) {
  if (app !== 'jupyterlab' && app !== 'notebook') throw new Error(`labArguments: app '${app}' is not jupyterlab or notebook`);
  // Jupyter refuses to run as root without --allow-root (containers, CI machines).
  return ['-m', app, ...(app === 'jupyterlab' ? QUIET_LAB : []), ...(isRoot ? ['--allow-root'] : []), ...userArgs];
}

/**
 * JupyterLab drops a completion provider's answer that comes after `providerTimeout` (1 s by default); the kernel's
 * first completion loads the library's declarations and took 5 s on a loaded 2-core machine, so it never showed.
 * A default of the project's own JupyterLab (an overrides.d file in the application settings of the project venv;
 * a user's own setting still wins), never written into an interpreter outside the checkout.
 */
export const COMPLETER_OVERRIDES = { '@jupyterlab/completer-extension:manager': { providerTimeout: 30_000 } };

/** Writes COMPLETER_OVERRIDES for `python`'s JupyterLab when it lives in the checkout; returns the file or a reason. */
export function ensureLabDefaults(python, root = projectRoot()) {
  const r = spawnSync(python, ['-c', 'from jupyterlab.commands import get_app_dir; print(get_app_dir())'], { encoding: 'utf8' });
  const appDir = r.status === 0 ? r.stdout.trim() : '';
  if (!appDir) return { skipped: 'JupyterLab not found' };
  if (!resolve(appDir).startsWith(resolve(root) + sep)) return { skipped: `JupyterLab of ${appDir} is not the project's own` };
  const file = join(appDir, 'settings', 'overrides.d', 'tangent-lab.json');
  const text = `${JSON.stringify(COMPLETER_OVERRIDES, null, 2)}\n`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return { file };
}

function main() {
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
  if (lab) ensureLabDefaults(python);
  const args = process.argv.slice(2);
  process.stdout.write(
    `starting ${lab ? `JupyterLab ${lab}` : `the Jupyter notebook ${version('notebook') ?? ''} (JupyterLab is not installed: see environment.md)`} ` +
      `from ${python}\n` +
      `  folder: ${args.some((a) => a.startsWith('--notebook-dir') || a.includes('root_dir')) ? 'as given' : join(projectRoot(), 'notebooks')}` +
      ` (another folder: npm run lab -- --notebook-dir=/path/to/folder)\n` +
      `  kernel: "TypeScript (tangent-lab)"; after editing lib/, restart the kernel\n`,
  );
  const child = spawn(python, labArguments({ app, userArgs: args, isRoot: process.getuid?.() === 0 }), {
    cwd: join(projectRoot(), 'notebooks'),
    stdio: 'inherit',
    env: privateKernelEnv(),
  });
  process.on('SIGINT', () => {}); // Jupyter handles Ctrl-C (it asks for confirmation)
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
