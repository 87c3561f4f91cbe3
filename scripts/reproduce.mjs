#!/usr/bin/env node
// `npm run reproduce`: executes the notebooks headlessly (scripts/run_notebooks.py, nbclient) and writes
// the executed copies plus run.json to the output folder. Set-up and the library build happen before,
// in the npm script.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { findJupyterPython } from './jupyter-python.mjs';
import { KERNEL_NAME, projectRoot } from './project.mjs';
import { privateKernelEnv } from './kernel-install.mjs';

const USAGE = `usage: npm run reproduce -- [options]
  --profile quick|paper   experiment scale passed to the notebooks as TANGENT_PROFILE
                          (default: $TANGENT_PROFILE, else paper)
  --only NAME             run only matching notebooks (basename with or without .ipynb, or a prefix);
                          repeatable or comma-separated
  --out DIR               output folder (default: reproduction/); executed notebooks go to DIR/notebooks/
  --timeout-idle SECONDS  report a notebook as hung after this long without kernel output (default 1800)
  --notebooks DIR         folder of the notebooks to run (default: notebooks/)
  --no-report             skip the static figure export (Chromium) and report.html / REPORT.md`;

function fail(message, code = 2) {
  process.stderr.write(`reproduce: ${message}\n`);
  process.exit(code);
}

function options(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        profile: { type: 'string' },
        only: { type: 'string', multiple: true },
        out: { type: 'string' },
        'timeout-idle': { type: 'string' },
        notebooks: { type: 'string' },
        'no-report': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const profile = parsed.profile ?? (process.env.TANGENT_PROFILE?.trim() || 'paper');
  if (!['quick', 'paper'].includes(profile)) fail(`profile '${profile}' is not quick or paper`);
  const idle = Number(parsed['timeout-idle'] ?? 1800);
  if (!(idle > 0)) fail(`--timeout-idle needs a positive number of seconds, got '${parsed['timeout-idle']}'`);
  const only = (parsed.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return { profile, idle, only, out: parsed.out, notebooks: parsed.notebooks, report: !parsed['no-report'] };
}

/** Notebooks in dir, sorted, filtered by --only (exact basename, with or without .ipynb, or prefix). */
export function selectNotebooks(dir, only) {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && statSync(join(dir, f)).isFile())
    .sort();
  if (only.length === 0) return all;
  const unmatched = only.filter((o) => !all.some((f) => f.startsWith(o)));
  if (unmatched.length > 0) {
    throw new Error(`--only ${unmatched.join(', ')} matches no notebook in ${dir} (have: ${all.join(', ') || 'none'})`);
  }
  return all.filter((f) => only.some((o) => f.startsWith(o)));
}

/** Static figure export (one headless Chromium) and report.html / REPORT.md. */
async function report(root, outDir) {
  try {
    const lib = await import(pathToFileURL(join(root, 'dist', 'scripts', 'report.js')).href);
    const browser = await lib.launchBrowser();
    try {
      const files = await lib.exportFigures(join(outDir, 'figures'), browser);
      console.log(`exported ${files.length / 2} figure(s) as SVG and PNG to ${join(outDir, 'figures')}`);
    } finally {
      await browser.close();
    }
    const r = lib.writeReport(outDir);
    console.log(`report: ${r.passed} of ${r.total} claims reproduced -> ${r.html}, ${r.md}`);
    return 0;
  } catch (e) {
    console.error(`report failed: ${e.message}`);
    return 1;
  }
}

function main() {
  const root = projectRoot();
  const opts = options(process.argv.slice(2));
  // npm runs scripts in the project root; resolve user paths against where npm was invoked.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const nbDir = opts.notebooks ? resolve(cwd, opts.notebooks) : join(root, 'notebooks');
  const outDir = opts.out ? resolve(cwd, opts.out) : join(root, 'reproduction');
  if (!existsSync(nbDir)) fail(`notebook folder ${nbDir} does not exist`);
  let files;
  try {
    files = selectNotebooks(nbDir, opts.only);
  } catch (e) {
    fail(e.message);
  }
  if (files.length === 0) fail(`no notebooks in ${nbDir}`);
  const executedDir = join(outDir, 'notebooks');
  if (existsSync(executedDir) && realpathSync(executedDir) === realpathSync(nbDir)) {
    fail(`--out ${outDir} would overwrite the source notebooks in ${nbDir}; choose another folder`);
  }
  let python;
  try {
    python = findJupyterPython(['nbclient', 'nbformat']);
  } catch (e) {
    fail(e.message);
  }
  // Paths inside the project are passed (and recorded in run.json) relative to it.
  const shown = (p) => (relative(root, p).startsWith('..') || isAbsolute(relative(root, p)) ? p : relative(root, p) || '.');
  const args = [
    join(root, 'scripts', 'run_notebooks.py'),
    '--out', shown(outDir),
    '--kernel', KERNEL_NAME,
    '--profile', opts.profile,
    '--timeout-idle', String(opts.idle),
    ...files.map((f) => shown(join(nbDir, f))),
  ];
  const child = spawn(python, args, { cwd: root, stdio: 'inherit', env: privateKernelEnv(root) });
  // Ctrl-C reaches the Python driver too (same process group); wait for its summary.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', async (code, signal) => {
    if (signal || code === 130) process.exit(130);
    // The figures and the report are written whatever the notebooks' outcome.
    const reportCode = opts.report ? await report(root, outDir) : 0;
    process.exit(code || reportCode);
  });
  child.on('error', (e) => fail(`cannot start ${python}: ${e.message}`, 1));
}

if (basename(process.argv[1] ?? '') === 'reproduce.mjs') main();
