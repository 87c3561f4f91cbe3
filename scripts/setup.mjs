#!/usr/bin/env node
// Idempotent environment set-up run before `npm test`, `npm run reproduce`, `npm run bench`, `npm run lab`:
// npm dependencies, the package self link, the project venv `.venv/` (JupyterLab 4, Notebook 7, nbclient,
// nbconvert, jupyter_client, plotly from pip), else a system Python with the Jupyter pieces (apt-get when
// root on Debian/Ubuntu), Chromium (figure export; warning only), the native OpenBLAS matmul addon (C compiler
// and libopenblas-dev by apt-get when root on Debian/Ubuntu; warning only: the library then stays on plain
// wasm), and the project kernelspec.
// Fast when everything is in place: node_modules is checked against package-lock.json, Python with
// importlib.util.find_spec, the kernelspec by comparing its kernel.json with the expected one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { pathToFileURL } from 'node:url';
import { buildNative, NATIVE_ADDON } from './build-native.mjs';
import { installKernel, kernelSpec } from './kernel-install.mjs';
import { patchTslab } from './patch-tslab.mjs';
import { KERNEL_NAME, ensureSelfLink, projectRoot, venvDir, venvPython } from './project.mjs';

export const PY_MODULES = ['nbclient', 'nbconvert', 'nbformat', 'jupyter_client', 'jupyter_kernel_test', 'notebook'];
export const APT_PACKAGES = ['jupyter-nbconvert', 'jupyter-client', 'python3-jupyter-kernel-test', 'jupyter-notebook', 'python3-nbclient'];
const PIP_PACKAGES = ['nbclient', 'nbconvert', 'jupyter_client', 'jupyter_kernel_test', 'notebook'];
/** What scripts/build-native.mjs needs: a C compiler, the C library headers, OpenBLAS with cblas.h. */
export const NATIVE_APT_PACKAGES = ['gcc', 'libc6-dev', 'libopenblas-dev'];
// The venv: pip requirements and the modules that show they are installed.
export const VENV_REQUIREMENTS = ['jupyterlab>=4,<5', 'notebook>=7,<8', 'nbclient>=0.8', 'nbconvert>=7', 'jupyter_client>=8', 'plotly'];
export const VENV_MODULES = ['jupyterlab', 'notebook', 'nbclient', 'nbconvert', 'nbformat', 'jupyter_client', 'plotly'];
// pip cannot provide it here (not on the configured indexes): Debian's, seen through --system-site-packages.
const KERNEL_TEST_MODULE = 'jupyter_kernel_test';
const KERNEL_TEST_APT = 'python3-jupyter-kernel-test';
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const root = projectRoot();
const stampPath = join(root, 'node_modules', '.tangent-setup.json');
const log = (msg) => process.stdout.write(`setup: ${msg}\n`);

class SetupError extends Error {}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw new SetupError(`cannot run ${cmd}: ${r.error.message}`);
  return r.status === 0;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every non-optional package of package-lock.json is installed at its locked version. */
function nodeModulesMatchLock(lock) {
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/') || entry.optional) continue;
    const pkg = readJson(join(root, key, 'package.json'));
    if (!pkg || (entry.version && !entry.link && pkg.version !== entry.version)) return false;
  }
  return true;
}

function ensureNodeModules() {
  const lock = readJson(join(root, 'package-lock.json'));
  if (existsSync(join(root, 'node_modules')) && (!lock || nodeModulesMatchLock(lock))) return;
  const verb = lock ? 'ci' : 'install';
  log(`node_modules missing or out of date: npm ${verb}`);
  // Inside an npm script, use the npm that runs us.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  if (!run(npm[0], [...npm.slice(1), verb])) throw new SetupError(`npm ${verb} failed`);
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

/** Modules of `modules` that `python` cannot find, or undefined when python does not run. */
function missingModules(python, modules, { importThem = false } = {}) {
  const code = importThem
    ? `import importlib, sys\nmissing = []\nfor m in sys.argv[1:]:\n  try: importlib.import_module(m)\n  except Exception: missing.append(m)\nprint(' '.join(missing))`
    : `import importlib.util, sys\nprint(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))`;
  const r = spawnSync(python, ['-c', code, ...modules], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}

function pythonCandidates() {
  // An explicit TANGENT_PYTHON is the only candidate: silently using another interpreter would hide a typo.
  return process.env.TANGENT_PYTHON ? [process.env.TANGENT_PYTHON] : ['python3', '/usr/bin/python3', 'python'];
}

function findPython() {
  const report = [];
  for (const py of pythonCandidates()) {
    const missing = missingModules(py, PY_MODULES, { importThem: true });
    if (missing?.length === 0) return { python: py };
    report.push(missing ? `${py} lacks ${missing.join(', ')}` : `${py} does not run`);
  }
  return { report };
}

function canApt() {
  return process.platform === 'linux' && process.getuid?.() === 0 && onPath('apt-get');
}

function browserPresent() {
  return Boolean(process.env.CHROME_PATH && existsSync(process.env.CHROME_PATH)) || BROWSERS.some(onPath);
}

function aptInstall(packages) {
  log(`apt-get install -y ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return run('apt-get', ['install', '-y', ...packages], { env });
}

function installMessage(report) {
  return [
    `no Python with the Jupyter modules the project needs (${PY_MODULES.join(', ')}):`,
    ...report.map((r) => `  ${r}`),
    canApt() ? 'apt-get did not provide them.' : 'They cannot be installed automatically here (that needs root and apt-get).',
    'Install them, then re-run the command:',
    `  Debian/Ubuntu, as root:  apt-get update && apt-get install -y ${APT_PACKAGES.join(' ')} chromium`,
    `  or with pip:             pip install ${PIP_PACKAGES.join(' ')}`,
    'If the interpreter that has them is not `python3` on PATH, point TANGENT_PYTHON at it,',
    '  e.g. TANGENT_PYTHON=$HOME/venvs/jupyter/bin/python npm test',
  ].join('\n');
}

/**
 * The venv's interpreter once it has VENV_MODULES, else undefined. It is created from Debian's
 * /usr/bin/python3 where that exists, with --system-site-packages so that Debian's jupyter_kernel_test
 * stays importable; pip installs every requirement into the venv (--ignore-installed), so the venv's
 * Jupyter never mixes with Debian's. A failed pip run is reported once (remembered in the stamp).
 */
function ensureVenv(stamp) {
  if (process.env.TANGENT_PYTHON || process.env.TANGENT_NO_VENV) return undefined;
  const py = venvPython(root);
  // .venv lies inside this "type": "module" package: without a package.json of its own, node would load
  // the CommonJS scripts of Python packages (JupyterLab's yarn.js) as ES modules and fail.
  const cjs = join(venvDir(root), 'package.json');
  if (existsSync(py) && !existsSync(cjs)) writeFileSync(cjs, '{ "type": "commonjs" }\n');
  if (existsSync(py)) disableDebugger();
  if (existsSync(py) && missingModules(py, VENV_MODULES)?.length === 0) return py;
  const want = VENV_REQUIREMENTS.join(' ');
  if (stamp.venvFailed === want) return undefined;
  const base = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  if (!existsSync(py)) {
    log(`creating the project venv: ${base} -m venv --system-site-packages .venv`);
    let ok = run(base, ['-m', 'venv', '--system-site-packages', venvDir(root)]);
    if (!ok && canApt()) {
      rmSync(venvDir(root), { recursive: true, force: true });
      ok = aptInstall(['python3-venv']) && run(base, ['-m', 'venv', '--system-site-packages', venvDir(root)]);
    }
    if (!ok) return venvFailed(stamp, want, `${base} -m venv failed (Debian: apt-get install python3-venv)`);
  }
  if (!existsSync(cjs)) writeFileSync(cjs, '{ "type": "commonjs" }\n');
  log(`pip install into .venv: ${want}`);
  const t0 = Date.now();
  // Short timeout, no retries: an index that does not answer offline falls through at once.
  const ok = run(py, ['-m', 'pip', 'install', '--quiet', '--timeout', '5', '--retries', '0', '--ignore-installed', '--disable-pip-version-check', ...VENV_REQUIREMENTS]);
  const missing = missingModules(py, VENV_MODULES) ?? VENV_MODULES;
  if (!ok || missing.length > 0) return venvFailed(stamp, want, `pip could not install ${missing.join(', ') || 'every requirement'} (no package index reachable?)`);
  log(`venv ready in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  delete stamp.venvFailed;
  return py;
}

/**
 * tslab has no debugger: JupyterLab's and Notebook 7's debugger extension then logs "No active debugger
 * session" console errors for every cell. Disabled for the venv's front ends (page_config.json in its prefix).
 */
function disableDebugger() {
  const dir = join(venvDir(root), 'etc', 'jupyter', 'labconfig');
  const file = join(dir, 'page_config.json');
  const config = readJson(file) ?? {};
  if (config.disabledExtensions?.['@jupyterlab/debugger-extension'] === true) return;
  config.disabledExtensions = { ...(config.disabledExtensions ?? {}), '@jupyterlab/debugger-extension': true };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

function venvFailed(stamp, want, why) {
  stamp.venvFailed = want;
  log(`warning: ${why}. Using the system's Jupyter packages instead (Debian: ${APT_PACKAGES.join(' ')}); ` +
    `missing without the venv: JupyterLab 4 (npm run lab opens the classic notebook), Notebook 7 and plotly's ` +
    `JupyterLab renderer. To get them: .venv/bin/pip install ${VENV_REQUIREMENTS.map((r) => `'${r}'`).join(' ')}, ` +
    `or remove .venv and re-run the set-up. (This warning is shown once.)`);
  return undefined;
}

/** Debian's jupyter_kernel_test, visible in the venv through --system-site-packages; warns once if absent. */
function ensureKernelTest(python, stamp) {
  if (stamp.kernelTestChecked === python) return;
  if (missingModules(python, [KERNEL_TEST_MODULE])?.length !== 0) {
    if (canApt()) aptInstall([KERNEL_TEST_APT]);
    if (missingModules(python, [KERNEL_TEST_MODULE])?.length !== 0) {
      log(`warning: ${python} cannot import ${KERNEL_TEST_MODULE} (the kernel protocol test needs it): ` +
        `Debian: apt-get install ${KERNEL_TEST_APT}; elsewhere: pip install ${KERNEL_TEST_MODULE}`);
    }
  }
  stamp.kernelTestChecked = python;
}

/**
 * The classic front end (notebook 6, Debian's jupyter-notebook) beside the venv's Notebook 7: the classic
 * browser test drives it. Installed by apt-get when it can; warns once otherwise.
 */
function ensureClassicNotebook(stamp) {
  const python = '/usr/bin/python3';
  if (stamp.classicNotebookChecked || !existsSync(python)) return;
  const has = () => spawnSync(python, ['-c', "import notebook, sys; sys.exit(0 if notebook.__version__ < '7' else 1)"]).status === 0;
  if (!has() && canApt()) {
    run('apt-get', ['update'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    aptInstall(['jupyter-notebook']);
  }
  if (!has()) log('warning: no classic notebook (< 7) for the classic front-end test: Debian: apt-get install jupyter-notebook');
  stamp.classicNotebookChecked = true;
}

function ensurePython(stamp) {
  const wantBrowser = !browserPresent() && canApt() && !stamp.browserTried;
  const venv = ensureVenv(stamp);
  if (venv) {
    if (wantBrowser) {
      run('apt-get', ['update'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      aptInstall(['chromium']);
      stamp.browserTried = true;
    }
    ensureKernelTest(venv, stamp);
    ensureClassicNotebook(stamp);
    return venv;
  }
  if (stamp.python && pythonCandidates().includes(stamp.python) && !wantBrowser &&
      missingModules(stamp.python, PY_MODULES)?.length === 0) {
    return stamp.python;
  }
  let found = findPython();
  if (canApt() && (!found.python || wantBrowser)) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    log('installing system packages: apt-get update');
    run('apt-get', ['update'], { env });
    const required = found.python ? [] : APT_PACKAGES;
    // Chromium is optional: if the combined install fails, retry without it.
    if (!aptInstall([...required, ...(wantBrowser ? ['chromium'] : [])]) && wantBrowser && required.length > 0) {
      aptInstall(required);
    }
    stamp.browserTried = true;
    if (!found.python) found = findPython();
  }
  if (!found.python) throw new SetupError(installMessage(found.report));
  return found.python;
}

/** Where Jupyter finds our kernelspec, or undefined. */
function kernelJsonPath(python) {
  const code = `from jupyter_client.kernelspec import KernelSpecManager\nprint(KernelSpecManager().get_kernel_spec('${KERNEL_NAME}').resource_dir)`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  return r.status === 0 ? join(r.stdout.trim(), 'kernel.json') : undefined;
}

function ensureKernel(python, stamp) {
  const expected = kernelSpec(root);
  if (stamp.kernelJson && isDeepStrictEqual(readJson(stamp.kernelJson), expected)) return;
  let path = kernelJsonPath(python);
  if (!path || !isDeepStrictEqual(readJson(path), expected)) {
    log(`registering kernelspec '${KERNEL_NAME}'`);
    process.env.TANGENT_PYTHON ??= python;
    installKernel({ quiet: true });
    path = kernelJsonPath(python);
    if (!path || !isDeepStrictEqual(readJson(path), expected)) {
      throw new SetupError(`kernelspec '${KERNEL_NAME}' was installed but Jupyter resolves it to ${path}, ` +
        `which is a different spec (JUPYTER_PATH or JUPYTER_DATA_DIR shadowing it?)`);
    }
  }
  stamp.kernelJson = path;
}

/** Builds the native matmul addon, installing its apt packages first when the build lacks them and apt can. */
function ensureNative(stamp) {
  let status = buildNative({ log });
  if (!status.ok && canApt() && !stamp.nativeAptTried && /cblas\.h|C compiler|compilation failed/.test(status.reason)) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    log('installing the native matmul build dependencies: apt-get update');
    run('apt-get', ['update'], { env });
    aptInstall(NATIVE_APT_PACKAGES);
    stamp.nativeAptTried = true;
    status = buildNative({ log, force: true });
  }
  if (!status.ok) {
    log(`warning: no native matmul (${status.reason}); the library uses plain wasm matrix products. ` +
      `Debian: apt-get install ${NATIVE_APT_PACKAGES.join(' ')}, then node scripts/build-native.mjs`);
  } else if (status.built) log(`native matmul addon built: ${NATIVE_ADDON}`);
}

/** Runs every step; returns the Python interpreter that has the Jupyter modules. */
export function setup() {
  ensureNodeModules();
  ensureSelfLink(root);
  // npm ci --ignore-scripts (or an install of tslab by hand) skips the postinstall hook that applies it.
  try {
    const applied = patchTslab(root);
    if (applied.length) log(`applied the project patches of tslab: ${applied.join('; ')} (scripts/patch-tslab.mjs)`);
  } catch (e) {
    throw new SetupError(e.message);
  }
  const stamp = readJson(stampPath) ?? {};
  ensureNative(stamp);
  const python = ensurePython(stamp);
  stamp.python = python;
  if (!browserPresent()) {
    log(`warning: no Chromium (${BROWSERS.join(', ')} on PATH, or CHROME_PATH); figure export will not work ` +
      `until it is installed (Debian: apt-get install chromium)`);
  }
  ensureKernel(python, stamp);
  writeFileSync(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
  return python;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const t0 = Date.now();
    const python = setup();
    log(`ok (python ${python}, kernel ${KERNEL_NAME}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  } catch (e) {
    process.stderr.write(`setup: ${e instanceof SetupError ? e.message : e.stack}\n`);
    process.exit(1);
  }
}
