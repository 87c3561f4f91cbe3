// Shared helpers of the project scripts (plain JavaScript so they run before anything is built).
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function projectRoot() {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/**
 * node_modules/tangent-lab -> project root, so that notebooks (compiled by tslab with classic node
 * resolution, which ignores package self-references) find the library by its package name.
 */
export function ensureSelfLink(root = projectRoot()) {
  const link = join(root, 'node_modules', 'tangent-lab');
  try {
    if (lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === root) return;
    rmSync(link, { recursive: true, force: true });
  } catch {
    // absent
  }
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync('..', link, 'dir');
}

/**
 * The packages the kernel serves to a notebook in any folder (TSLAB_PROVIDED_PACKAGES, read by the tslab
 * patches provided-packages-*.mjs): this checkout as `tangent-lab`, over any other folder for that name in
 * `inherited` (the JSON value of the variable in the environment, whose other packages are kept).
 */
export function providedPackages(root = projectRoot(), inherited = undefined) {
  let others = {};
  if (inherited) {
    try {
      const parsed = JSON.parse(inherited);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) others = parsed;
      else throw new Error('not an object');
    } catch (e) {
      process.stderr.write(`tangent-lab: TSLAB_PROVIDED_PACKAGES=${inherited} is not a JSON object { name: folder } (${e.message}); ignored\n`);
    }
  }
  return { ...others, 'tangent-lab': root };
}

/** NODE_OPTIONS with `--import` of scripts/resolve-anywhere.mjs added once (a file URL: no spaces to quote). */
export function withResolveHook(root = projectRoot(), nodeOptions = '') {
  const flag = `--import ${pathToFileURL(join(root, 'scripts', 'resolve-anywhere.mjs')).href}`;
  const current = (nodeOptions ?? '').trim();
  return current.includes(flag) ? current : [current, flag].filter(Boolean).join(' ');
}

export const KERNEL_NAME = 'tangent-lab';
export const KERNEL_DISPLAY_NAME = 'TypeScript (tangent-lab)';

/** The project's Python virtual environment (created by scripts/setup.mjs; git-ignored). */
export function venvDir(root = projectRoot()) {
  return join(root, '.venv');
}

/** The interpreter of the project venv (it may not exist yet). */
export function venvPython(root = projectRoot()) {
  return process.platform === 'win32' ? join(venvDir(root), 'Scripts', 'python.exe') : join(venvDir(root), 'bin', 'python');
}

export function hasFile(p) {
  return existsSync(p);
}
