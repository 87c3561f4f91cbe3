#!/usr/bin/env node
// `npm run reproduce`: executes the notebooks headlessly (scripts/run_notebooks.py, nbclient) and writes
// the executed copies plus run.json to the output folder. Set-up and the library build happen before,
// in the npm script.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { constants as osConstants } from 'node:os';
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
  -p, --param NAME=VALUE  override a parameter of the notebooks' cell tagged 'parameters' (repeatable):
                          a cell tagged 'injected-parameters' is inserted after it (papermill's convention)
                          and the kernel type-checks the values against the parameters' types. VALUE is
                          JSON (3000, true, [1,2], "text"), else taken as a string; numbers must be
                          finite (1e400 is refused) and integers exact (below 2^53)
  --engine local|slurm    where sweep points are computed, passed to the notebooks as TANGENT_ENGINE
                          (default: $TANGENT_ENGINE, else local); slurm: one sbatch --array job per sweep,
                          options from TANGENT_SLURM_ARGS, store in TANGENT_RESULTS_DIR (shared by all nodes)
  --no-report             skip the static figure export (Chromium) and report.html / REPORT.md`;

function fail(message, code = 2) {
  process.stderr.write(`reproduce: ${message}\n`);
  process.exit(code);
}

// Options that take one value: given twice, the first would be silently dropped.
const SINGLE = ['profile', 'out', 'timeout-idle', 'notebooks', 'engine'];

/** Parses and checks the command line; throws with the flag, the value and what is expected. */
export function parseOptions(argv, env = process.env) {
  let parsed;
  let tokens;
  try {
    ({ values: parsed, tokens } = parseArgs({
      args: argv,
      tokens: true,
      options: {
        profile: { type: 'string' },
        only: { type: 'string', multiple: true },
        out: { type: 'string' },
        'timeout-idle': { type: 'string' },
        notebooks: { type: 'string' },
        param: { type: 'string', short: 'p', multiple: true },
        engine: { type: 'string' },
        'no-report': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new Error(`${e.message}\n${USAGE}`);
  }
  if (parsed.help) return { help: true };
  for (const name of SINGLE) {
    const given = tokens.filter((t) => t.kind === 'option' && t.name === name).map((t) => `'${t.value}'`);
    if (given.length > 1) throw new Error(`--${name} is given ${given.length} times (${given.join(', ')}); give it once`);
  }
  for (const name of ['profile', 'out', 'notebooks', 'engine', 'timeout-idle']) {
    if (parsed[name] !== undefined && parsed[name].trim() === '') throw new Error(`--${name} '${parsed[name]}' is empty; expected ${EXPECTED[name]}`);
  }
  const profile = parsed.profile ?? (env.TANGENT_PROFILE?.trim() || 'paper');
  if (!['quick', 'paper'].includes(profile)) {
    throw new Error(`${parsed.profile === undefined ? 'TANGENT_PROFILE' : '--profile'} '${profile}' is not quick or paper`);
  }
  const idleText = parsed['timeout-idle'];
  const idle = idleText === undefined ? 1800 : Number(idleText);
  if (!(Number.isFinite(idle) && idle > 0)) {
    throw new Error(`--timeout-idle '${idleText}' is not a positive finite number of seconds (e.g. --timeout-idle 600)`);
  }
  const engine = parsed.engine ?? (env.TANGENT_ENGINE?.trim() || 'local');
  if (!['local', 'slurm'].includes(engine)) {
    throw new Error(`${parsed.engine === undefined ? 'TANGENT_ENGINE' : '--engine'} '${engine}' is not local or slurm`);
  }
  const only = [];
  for (const raw of parsed.only ?? []) {
    const names = raw.split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) {
      throw new Error(`--only '${raw}' has an empty name; expected notebook names or prefixes, comma-separated (e.g. --only 002 or --only 002,003)`);
    }
    only.push(...names);
  }
  const params = parseParams(parsed.param ?? []);
  return { profile, idle, only, params, out: parsed.out, notebooks: parsed.notebooks, report: !parsed['no-report'], engine };
}

const EXPECTED = {
  profile: 'quick or paper',
  out: 'an output folder',
  notebooks: 'a folder of notebooks',
  engine: 'local or slurm',
  'timeout-idle': 'a positive number of seconds',
};

function options(argv) {
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    fail(e.message);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return opts;
}

/**
 * `-p name=value` arguments as an object (without a prototype, so that `constructor` or `__proto__` are plain
 * names); VALUE is JSON where it parses, else a string. A value that JSON cannot carry to the notebook
 * (1e400 parses to Infinity, which JSON writes as null), an integer literal beyond 2^53 (rounded), an empty
 * value and text that looks like JSON but does not parse are refused.
 */
export function parseParams(args) {
  const params = Object.create(null);
  for (const a of args) {
    const m = /^([A-Za-z_$][\w$]*)=(.*)$/s.exec(a);
    if (!m) throw new Error(`-p ${a}: expected NAME=VALUE with NAME an identifier (e.g. -p maxWidth=3000)`);
    const [, name, text] = m;
    // In the injected object literal, `__proto__: v` would set the prototype instead of the parameter.
    if (name === '__proto__') throw new Error(`-p ${a}: '__proto__' cannot be a parameter name; expected the name of a notebook parameter`);
    if (Object.hasOwn(params, name)) throw new Error(`-p ${name} is given twice`);
    if (text.trim() === '') throw new Error(`-p ${a}: the value is empty; expected JSON (3000, true, [1,2], "text") or text (an empty string: -p ${name}='""')`);
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (/^\s*[[{"]/.test(text)) throw new Error(`-p ${a}: the value looks like JSON but does not parse (${e.message}); quote it for the shell, e.g. -p '${name}=[1,2]'`);
      value = text;
    }
    const bad = nonFinite(value);
    if (bad !== undefined) throw new Error(`-p ${a}: ${bad} is not a finite number (JSON would carry it as null); expected a number between -1.7976931348623157e308 and 1.7976931348623157e308`);
    if (typeof value === 'number' && /^\s*-?\d+\s*$/.test(text) && !Number.isSafeInteger(value)) {
      throw new Error(`-p ${a}: ${text.trim()} is beyond the integers a number holds exactly (2^53 = 9007199254740992) and would be rounded to ${value}`);
    }
    params[name] = value;
  }
  return params;
}

/** The first number in a parsed JSON value that is not finite, as text; undefined when there is none. */
function nonFinite(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : String(value);
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const bad = nonFinite(v);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
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
      const files = await lib.exportFigures(join(outDir, 'figures'), browser, (l) => l.includes(': layout: ') && console.log(l));
      console.log(`exported ${files.length / 2} figure(s) as SVG and PNG to ${join(outDir, 'figures')}`);
      const layouts = Object.values(JSON.parse(readFileSync(join(outDir, 'figures', 'layout-check.json'), 'utf8')));
      const bad = layouts.filter((l) => l.problems.length > 0).length;
      console.log(`layout check (Chromium): ${layouts.length - bad} of ${layouts.length} figure(s) without overlapping or clipped text${bad ? ` (see figures/layout-check.json)` : ''}`);
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
  if (!statSync(nbDir).isDirectory()) {
    fail(`--notebooks ${nbDir} is a file, not a folder; expected the folder of the notebooks (one notebook: --notebooks FOLDER --only NAME)`);
  }
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) fail(`--out ${outDir} is a file, not a folder; expected an output folder`);
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
    ...(Object.keys(opts.params).length > 0 ? ['--parameters', JSON.stringify(opts.params)] : []),
    ...files.map((f) => shown(join(nbDir, f))),
  ];
  const child = spawn(python, args, { cwd: root, stdio: 'inherit', env: { ...privateKernelEnv(root), TANGENT_ENGINE: opts.engine } });
  // Ctrl-C and a closed terminal reach the Python driver too (same process group); a signal sent to this
  // process alone is passed on. Either way the driver kills the kernel's process group, records the
  // signal in run.json and exits; we wait for it. If this process is killed outright (SIGKILL, OOM), the
  // driver notices that its parent is gone and does the same.
  let hungUp = false;
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGHUP', () => {
    hungUp = true;
    child.kill('SIGHUP');
  });
  child.on('exit', async (code, signal) => {
    if (signal) process.exit(128 + (osConstants.signals[signal] ?? 1));
    if (code >= 128 || hungUp) process.exit(code || 129);
    // The figures and the report are written whatever the notebooks' outcome.
    const reportCode = opts.report ? await report(root, outDir) : 0;
    process.exit(code || reportCode);
  });
  child.on('error', (e) => fail(`cannot start ${python}: ${e.message}`, 1));
}

if (basename(process.argv[1] ?? '') === 'reproduce.mjs') main();
