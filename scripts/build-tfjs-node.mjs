#!/usr/bin/env node
// Installs @tensorflow/tfjs-node (the `node` backend, TANGENT_BACKEND=node) into node_modules without its
// download from storage.googleapis.com, which machines that reach only package registries cannot make: the
// TensorFlow C library comes from the `tensorflow-cpu` wheel that pip fetches (its libtensorflow_cc.so.2 and
// libtensorflow_framework.so.2 export every TF_* / TFE_* function the binding calls), laid out as the official
// libtensorflow tarball in the package's deps/ (lib/ and include/, as its binding.gyp and scripts/install.js
// expect), and the binding is built from source by the package's own install script (node-pre-gyp, node-gyp).
//
//   node scripts/build-tfjs-node.mjs          build unless already built (idempotent: a stamp in deps/)
//   node scripts/build-tfjs-node.mjs --force  rebuild
//
// Exit status: 0 built (or already built) and checked; 2 cannot be built here, the reason on stderr (no pip, no
// wheel, no compiler, no space, no registry: .ci/run then skips the tfjs-node tests); 1 a fault of this script.
// Cache (wheel, extracted library): $TANGENT_CACHE_DIR, else $XDG_CACHE_HOME/tangent-lab, else ~/.cache/tangent-lab.
// TANGENT_TF_VERSION picks another tensorflow-cpu release (default below: the one tested).
// `npm ci` removes the package again (it is not in package-lock.json: see environment.md, "TensorFlow.js backends").
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from './project.mjs';

/** tensorflow-cpu release whose C library the node backend was tested on (issue 31). */
const TF_VERSION = process.env.TANGENT_TF_VERSION?.trim() || '2.21.0';
/** Free space needed: wheel (0.27 GB) + extracted library (0.85 GB) + a copy in node_modules where no hard link can be made. */
const NEEDED_BYTES = 2.5e9;
const PACKAGE = '@tensorflow/tfjs-node';

const root = projectRoot();
const log = (msg) => process.stdout.write(`build-tfjs-node: ${msg}\n`);

class CannotBuild extends Error {}

function cacheDir() {
  const base = process.env.TANGENT_CACHE_DIR?.trim() || join(process.env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache'), 'tangent-lab');
  return join(base, 'tfjs-node');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: opts.capture ? 'pipe' : 'inherit', ...opts });
  if (r.error) throw new CannotBuild(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

function lastLine(text) {
  return (text ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function duBytes(path) {
  const s = lstatSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + duBytes(join(path, f)), 0);
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

function timed(label, fn) {
  const t0 = performance.now();
  const out = fn();
  log(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

function checkPlatform() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new CannotBuild(`only linux x64 is supported (this is ${process.platform} ${process.arch}): the tensorflow-cpu wheel's library is used`);
  }
}

function checkSpace(dir) {
  mkdirSync(dir, { recursive: true });
  for (const d of new Set([dir, root])) {
    const fs = statfsSync(d);
    const free = fs.bavail * fs.bsize;
    if (free < NEEDED_BYTES) throw new CannotBuild(`${mb(free)} free at ${d}; about ${mb(NEEDED_BYTES)} are needed`);
  }
}

function checkTools() {
  for (const [tool, why] of [['python3', 'pip and node-gyp'], ['make', 'node-gyp'], ['c++', 'the binding (C++)']]) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new CannotBuild(`${tool} not found (needed by ${why}); on Debian: apt-get install python3 python3-pip make g++`);
  }
  const pip = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
  if (pip.status !== 0) throw new CannotBuild(`pip not available (python3 -m pip: ${lastLine(pip.stderr)})`);
}

/** The tensorflow-cpu wheel, from the cache or pip (the machine's configured indexes). */
function wheel(cache) {
  const dir = join(cache, 'wheel');
  const have = () => (existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`tensorflow_cpu-${TF_VERSION}-`) && f.endsWith('.whl')) : undefined);
  if (!have()) {
    mkdirSync(dir, { recursive: true });
    log(`pip download tensorflow-cpu==${TF_VERSION} into ${dir}`);
    const r = timed('pip download', () => run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--timeout', '10', '--retries', '1', '-d', dir, `tensorflow-cpu==${TF_VERSION}`], { capture: true }));
    if (r.status !== 0 || !have()) throw new CannotBuild(`pip cannot fetch tensorflow-cpu==${TF_VERSION}: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
  }
  const file = join(dir, have());
  log(`wheel ${file} (${mb(statSync(file).size)})`);
  return file;
}

// Extracts the two libraries and the headers the binding's sources include (transitively) from the wheel.
const EXTRACT_PY = `
import re, sys, zipfile, os
whl, out, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
z = zipfile.ZipFile(whl)
P = 'tensorflow/include/'
names = set(n[len(P):] for n in z.namelist() if n.startswith(P) and not n.endswith('/'))
todo, seen = [s for s in seeds if s in names], set()
missing = [s for s in seeds if s not in names]
if missing: sys.exit('headers not in the wheel: ' + ' '.join(missing))
while todo:
    h = todo.pop()
    if h in seen: continue
    seen.add(h)
    text = z.read(P + h).decode('utf8', 'replace')
    todo += [i for i in re.findall(r'^\\s*#\\s*include\\s*[<"]([^>"]+)[>"]', text, re.M) if i in names]
for h in sorted(seen):
    dest = os.path.join(out, 'include', h)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, 'wb') as f: f.write(z.read(P + h))
os.makedirs(os.path.join(out, 'lib'), exist_ok=True)
for lib in ('libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'):
    with z.open('tensorflow/' + lib) as src, open(os.path.join(out, 'lib', lib), 'wb') as dst:
        while True:
            b = src.read(1 << 24)
            if not b: break
            dst.write(b)
print(len(seen))
`;

/** Quoted TensorFlow includes of the binding's sources: the seeds of the header closure. */
function bindingIncludes(pkgDir) {
  const dir = join(pkgDir, 'binding');
  const incs = new Set();
  for (const f of readdirSync(dir).filter((f) => /\.(cc|h)$/.test(f))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/^\s*#\s*include\s*"(tensorflow\/[^"]+)"/gm)) incs.add(m[1]);
  }
  return [...incs];
}

/** <cache>/libtensorflow-<version>/{lib,include}: the wheel's C library in the official tarball's layout. */
function libtensorflow(cache, whl, pkgDir) {
  const dir = join(cache, `libtensorflow-${TF_VERSION}`);
  const stamp = join(dir, 'extracted.json');
  if (readJson(stamp)?.wheel === whl) return dir;
  rmSync(dir, { recursive: true, force: true });
  const r = timed('extract library and headers from the wheel', () => run('python3', ['-c', EXTRACT_PY, whl, dir, ...bindingIncludes(pkgDir)], { capture: true }));
  if (r.status !== 0) throw new CannotBuild(`cannot extract the library from ${whl}: ${lastLine(r.stderr)}`);
  log(`${r.stdout.trim()} headers, lib/ ${mb(duBytes(join(dir, 'lib')))}`);
  writeFileSync(stamp, `${JSON.stringify({ wheel: whl, tensorflow: TF_VERSION }, null, 2)}\n`);
  return dir;
}

/** Hard link (no second copy on one file system), else copy. */
function place(src, dest) {
  rmSync(dest, { force: true });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/**
 * deps/ as install.js leaves it after unpacking the official tarball: it builds without downloading when
 * deps/lib/libtensorflow.so.<its LIBTENSORFLOW_VERSION> exists; binding.gyp links -ltensorflow -ltensorflow_framework
 * from deps/lib (rpath $ORIGIN/../../deps/lib). The binding then needs the libraries by their sonames
 * (libtensorflow_cc.so.2, libtensorflow_framework.so.2), which are the real files.
 */
function stageDeps(pkgDir, lib) {
  const constants = spawnSync(process.execPath, ['-e', `const c = require(${JSON.stringify(join(pkgDir, 'scripts', 'deps-constants.js'))}); console.log(JSON.stringify({ v: c.LIBTENSORFLOW_VERSION, deps: c.depsPath }))`], { encoding: 'utf8' });
  if (constants.status !== 0) throw new CannotBuild(`cannot read ${PACKAGE}'s scripts/deps-constants.js: ${lastLine(constants.stderr)}`);
  const { v, deps } = JSON.parse(constants.stdout);
  rmSync(deps, { recursive: true, force: true });
  mkdirSync(join(deps, 'lib'), { recursive: true });
  for (const f of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) place(join(lib, 'lib', f), join(deps, 'lib', f));
  for (const name of [`libtensorflow.so.${v}`, 'libtensorflow.so.2', 'libtensorflow.so']) symlinkSync('libtensorflow_cc.so.2', join(deps, 'lib', name));
  symlinkSync('libtensorflow_framework.so.2', join(deps, 'lib', 'libtensorflow_framework.so'));
  cpSync(join(lib, 'include'), join(deps, 'include'), { recursive: true });
  return deps;
}

/** The npm that runs us inside an npm script, else npm on PATH. */
function npm(args, opts = {}) {
  const cmd = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  return run(cmd[0], [...cmd.slice(1), ...args], opts);
}

/** Headers for node-gyp without a download from nodejs.org: those installed next to node, unless npm has a nodedir. */
function nodedirEnv() {
  const configured = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
  if (configured && configured !== 'undefined' && configured !== 'null') return {};
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_version.h')) ? { npm_config_nodedir: prefix } : {};
}

/** Loads the built package in a fresh process, runs a product and returns libtensorflow's version. */
function check() {
  const script = `
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
    const tf = require(${JSON.stringify(PACKAGE)});
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, -1, 2, 0.5, 1], [3, 2])).dataSync();
    if (tf.getBackend() !== 'tensorflow' || Array.from(y).join() !== '0.5,7,2,16') { console.error('wrong product on ' + tf.getBackend() + ': ' + Array.from(y)); process.exit(2); }
    console.log(tf.backend().binding.TF_Version);`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return { problem: lastLine(r.stderr) || `exit ${r.status}` };
  return { version: r.stdout.trim() };
}

function main() {
  const force = process.argv.includes('--force');
  checkPlatform();
  const tfjs = readJson(join(root, 'node_modules', '@tensorflow', 'tfjs', 'package.json'))?.version;
  if (!tfjs) throw new CannotBuild('node_modules/@tensorflow/tfjs is missing: run npm ci (or npm run setup) first');
  const pkgDir = join(root, 'node_modules', ...PACKAGE.split('/'));
  const stampPath = join(pkgDir, 'deps', 'tangent-build.json');
  const want = { tfjsNode: tfjs, tensorflowCpu: TF_VERSION };
  const stamp = readJson(stampPath);
  if (!force && stamp?.tfjsNode === want.tfjsNode && stamp?.tensorflowCpu === want.tensorflowCpu) {
    const c = check();
    if (c.version) return log(`${PACKAGE} ${tfjs} on libtensorflow ${c.version} already built (--force rebuilds)`);
    log(`the built package does not load (${c.problem}): rebuilding`);
  }
  const cache = cacheDir();
  checkSpace(cache);
  checkTools();
  const t0 = performance.now();
  const whl = wheel(cache);

  // Same version as @tensorflow/tfjs (which it pins exactly), so that it registers on the library's tfjs-core.
  // --ignore-scripts: its install script would download libtensorflow; it runs below, once deps/ is in place.
  const inst = timed(`npm install ${PACKAGE}@${tfjs}`, () => npm(['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${PACKAGE}@${tfjs}`], { capture: true }));
  if (inst.status !== 0) throw new CannotBuild(`npm install ${PACKAGE}@${tfjs} failed: ${lastLine(inst.stderr)}`);
  // npm install skipped the project's own postinstall (the package self link, the tslab patches): restore them.
  run(process.execPath, [join(root, 'scripts', 'postinstall.mjs')]);

  const lib = libtensorflow(cache, whl, pkgDir);
  stageDeps(pkgDir, lib);
  const env = { ...process.env, ...nodedirEnv(), npm_config_build_from_source: 'true' };
  const build = timed('build the binding (npm rebuild: install.js, node-pre-gyp, node-gyp)', () => npm(['rebuild', PACKAGE, '--foreground-scripts'], { env, capture: true }));
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout}\n${build.stderr}\n`);
    throw new CannotBuild(`building the ${PACKAGE} binding failed: ${lastLine(build.stderr) || lastLine(build.stdout)}`);
  }
  const c = check();
  if (!c.version) throw new CannotBuild(`${PACKAGE} was built but does not load: ${c.problem}`);
  writeFileSync(stampPath, `${JSON.stringify({ ...want, libtensorflow: c.version, wheel: whl }, null, 2)}\n`);
  const binding = readdirSync(join(pkgDir, 'lib')).map((d) => join(pkgDir, 'lib', d, 'tfjs_binding.node')).find(existsSync);
  log(`${PACKAGE} ${tfjs} built on libtensorflow ${c.version} in ${((performance.now() - t0) / 1000).toFixed(0)} s: ` +
    `deps/lib ${mb(duBytes(join(pkgDir, 'deps', 'lib')))}, binding ${((binding ? statSync(binding).size : 0) / 1e3).toFixed(0)} kB, cache ${mb(duBytes(cache))}`);
}

try {
  main();
} catch (e) {
  if (!(e instanceof CannotBuild)) throw e;
  process.stderr.write(`build-tfjs-node: cannot build here: ${e.message}\n`);
  process.exit(2);
}
