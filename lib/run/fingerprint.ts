/**
 * Code fingerprints: what a stored result is keyed by besides its arguments. The fingerprint of a module
 * is a sha256 over the compiled JS files it imports, transitively (each file's path relative to its
 * package root and its content hash), plus `name@version` of every package it imports by a bare
 * specifier. Editing `present/plot.js` therefore leaves the fingerprint of a kernel task unchanged,
 * and editing `core/jet.js` changes it.
 *
 * Imports are found statically with patterns over the module text (`from '…'`, `import '…'`,
 * `import('…')`, `require('…')`). This over-approximates: a specifier inside a comment or string adds
 * the file it names if that file exists, which can only make a fingerprint cover more code, never less.
 * Specifiers that are not literals (`import(name)`) are not followed: the worker's task module and the
 * backend package are keyed separately (task name, backend name and version).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../core/env.js';

export interface CodeFingerprint {
  /** `sha256:<hex>` over `files` and `packages`. */
  fingerprint: string;
  /** The module fingerprinted, relative to its package root. */
  module: string;
  /** Local files covered, relative to their package root, with the sha256 of each (sorted). */
  files: { path: string; sha256: string }[];
  /** Bare imports as `name@version` (sorted); `name@?` when the package cannot be found. */
  packages: string[];
  /**
   * Files whose content differs from when this process loaded them: the library (this package's
   * `dist/lib/**`), the entry script's static imports, and in the project's kernel every CommonJS file it
   * compiled (a user module a notebook imported). This process runs other code than the fingerprint
   * describes, so it must not compute under it.
   */
  changedSinceLoad: string[];
  /** Absolute paths of the files covered (same order as `files` is not guaranteed). */
  absoluteFiles: string[];
}

// The library's modules are read when it is imported, just before this module is evaluated: the hashes
// taken now are those of the code this process runs (77 files, ~0.5 MB: a few tens of ms).
const LIBRARY_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const loadedHashes = new Map<string, string>();
(function snapshot(dir: string) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) snapshot(p);
    else if (e.name.endsWith('.js')) loadedHashes.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
})(LIBRARY_DIR);

function sha256Of(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

const IMPORT_PATTERNS = [
  /\bfrom\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];
const BUILTIN = new Set(builtinModules);

/** Literal module specifiers in a JS module's text (see the header: an over-approximation). */
export function importSpecifiers(text: string): string[] {
  const found = new Set<string>();
  for (const re of IMPORT_PATTERNS) for (const m of text.matchAll(re)) found.add(m[2]);
  return [...found];
}

// A plain script's own modules are read before any of them runs, so hashing the entry script's static
// imports now (the library is being evaluated as one of them) snapshots the code this process runs.
const entryHashes = new Map<string, string>();
function snapshotGraph(entry: string): void {
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (entryHashes.has(file) || file.startsWith(LIBRARY_DIR + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch {
      continue;
    }
    entryHashes.set(file, sha256Of(text));
    for (const spec of importSpecifiers(text.toString('utf8'))) {
      if (!(spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:'))) continue;
      const target = resolveRelative(spec, dirname(file));
      if (target && /\.(c|m)?js$/.test(target)) stack.push(target);
    }
  }
}
if (process.argv[1] && /\.(c|m)?js$/.test(process.argv[1]) && existsSync(process.argv[1])) snapshotGraph(resolve(process.argv[1]));

/**
 * Records the code of a module this process has just imported (with its static relative imports), as
 * the code its functions run: `runTask` calls it after `import(module)`, so that a task module edited
 * afterwards is refused (changedSinceLoad) instead of computing with the old code under the new
 * fingerprint. Files already recorded keep their first hash; the library and packages are not recorded.
 */
export function noteLoaded(module: string): void {
  try {
    const path = toPath(resolveModule(module));
    if (!path.startsWith(LIBRARY_DIR + sep)) snapshotGraph(path);
  } catch {
    // Not a file this process can read: nothing to compare later.
  }
}

/**
 * The sha256s of a file's text when this process loaded it (several for a CommonJS file: its text with
 * and without a byte-order mark), or undefined when this process does not know.
 */
function loadedHashesOf(path: string): string[] | undefined {
  const lib = loadedHashes.get(path) ?? entryHashes.get(path);
  if (lib) return [lib];
  // The project's kernel records every CommonJS file it compiles (scripts/tslab-patches/notebook-code.mjs).
  const notebook = (globalThis as Record<symbol, { loaded?: Map<string, string> } | undefined>)[Symbol.for('tangent-lab.notebook')]?.loaded?.get(path);
  return notebook ? [notebook] : undefined;
}

function changedSince(path: string, text: string, sha256: string): boolean {
  const then = loadedHashesOf(path);
  // A library file that did not exist when the library was loaded is new code too.
  if (!then) return path.startsWith(LIBRARY_DIR + sep);
  return !then.includes(sha256) && !then.includes(sha256Of(text.replace(/^\uFEFF/, '')));
}

function toPath(module: string): string {
  if (module.startsWith('file:')) return fileURLToPath(module);
  if (isAbsolute(module)) return module;
  throw new Error(`moduleFingerprint: module = ${JSON.stringify(module)}; expected a file URL or an absolute path (resolve a specifier with import.meta.resolve first)`);
}

const packageRoots = new Map<string, string>();
/** Nearest directory at or above `dir` holding a package.json. */
function packageRootOf(dir: string): string {
  const hit = packageRoots.get(dir);
  if (hit) return hit;
  let d = dir;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) {
      d = dir;
      break;
    }
    d = up;
  }
  packageRoots.set(dir, d);
  return d;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** `name@version` of the package a bare specifier (`'arquero'`, `'@scope/pkg/sub'`) imported from `fromDir` resolves to. */
export function packageVersionOf(spec: string, fromDir: string): string {
  return packageVersion(packageName(spec), fromDir);
}

/** `name@version` of the package a bare specifier imported from `fromDir` resolves to (Node's node_modules lookup). */
function packageVersion(name: string, fromDir: string): string {
  for (let d = fromDir; ; d = dirname(d)) {
    const file = join(d, 'node_modules', name, 'package.json');
    if (existsSync(file)) {
      try {
        return `${name}@${(JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?'}`;
      } catch {
        return `${name}@?`;
      }
    }
    // The project's own name is a self-reference (package.json "exports"), not an installed package.
    const own = join(d, 'package.json');
    if (existsSync(own)) {
      try {
        const pkg = JSON.parse(readFileSync(own, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return `${name}@${pkg.version ?? '?'}`;
      } catch {
        // unreadable package.json: keep looking above
      }
    }
    if (dirname(d) === d) return `${name}@?`;
  }
}

// A user's file's hash is reused while its size, mtime and inode are unchanged: an edit after the first
// fingerprint changes the fingerprint (and, for a file this process loaded, refuses it: changedSinceLoad).
// The library's files keep the hash of their first read (as the library's code in memory does: a rebuild
// while this process runs is seen only by fingerprints taken after it, which then refuse to compute).
const fileHashes = new Map<string, { text: string; sha256: string; stamp: string }>();
function stampOf(path: string): string {
  if (path.startsWith(LIBRARY_DIR + sep)) return 'library';
  try {
    const st = statSync(path, { bigint: true });
    return `${st.size} ${st.mtimeNs} ${st.ino}`;
  } catch {
    return 'missing';
  }
}
function readModule(path: string): { text: string; sha256: string } {
  const stamp = stampOf(path);
  let hit = fileHashes.get(path);
  if (!hit || hit.stamp !== stamp) {
    const buf = readFileSync(path);
    hit = { text: buf.toString('utf8'), sha256: sha256Of(buf), stamp };
    fileHashes.set(path, hit);
  }
  return hit;
}

function resolveRelative(spec: string, fromDir: string): string | undefined {
  const base = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(fromDir, spec.split(/[?#]/)[0]);
  for (const p of [base, `${base}.js`, join(base, 'index.js')]) {
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

const fingerprints = new Map<string, { fp: CodeFingerprint; stamps: Map<string, string> }>();

/**
 * The fingerprint of a compiled module and everything it imports (cached per process; call
 * `resetFingerprints()` after editing files in the same process).
 *
 * @param module file URL (`import.meta.url`) or absolute path of a `.js` module
 * @example moduleFingerprint(new URL('../experiments/p002-kernel-change.js', import.meta.url).href).fingerprint
 */
export function moduleFingerprint(module: string): CodeFingerprint {
  const entry = toPath(module);
  const cachedFp = fingerprints.get(entry);
  if (cachedFp && [...cachedFp.stamps].every(([p, s]) => stampOf(p) === s)) return cachedFp.fp;
  if (!existsSync(entry)) throw new Error(`moduleFingerprint: module = ${JSON.stringify(module)}; expected an existing file (is the library compiled? npm run build)`);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const dir = dirname(file);
    for (const spec of importSpecifiers(readModule(file).text)) {
      if (spec.startsWith('node:') || BUILTIN.has(spec)) continue;
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:')) {
        const target = resolveRelative(spec, dir);
        if (target && /\.(c|m)?js$/.test(target)) stack.push(target);
      } else if (/^[@A-Za-z0-9_]/.test(spec) && !/\s/.test(spec)) {
        packages.add(packageVersion(packageName(spec), dir));
      }
    }
  }
  const label = (p: string) => {
    const rel = relative(packageRootOf(dirname(p)), p);
    return rel.split(sep).join('/');
  };
  const files = [...seen].map((p) => ({ path: label(p), sha256: readModule(p).sha256 })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const pkgs = [...packages].sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`file ${f.path} ${f.sha256}\n`);
  for (const p of pkgs) h.update(`package ${p}\n`);
  const changedSinceLoad = [...seen].filter((p) => changedSince(p, readModule(p).text, readModule(p).sha256)).map(label).sort();
  const fp: CodeFingerprint = { fingerprint: `sha256:${h.digest('hex')}`, module: label(entry), files, packages: pkgs, changedSinceLoad, absoluteFiles: [...seen].sort() };
  fingerprints.set(entry, { fp, stamps: new Map([...seen].map((p) => [p, fileHashes.get(p)!.stamp])) });
  return fp;
}

/**
 * One fingerprint over several modules (a closure's code): the hash of their fingerprints. Bare
 * specifiers (`'tangent-lab'`, `'tangent-lab/analysis'`) are resolved from the project root.
 */
export function codeFingerprint(modules: string | readonly string[]): { fingerprint: string; modules: string[]; changedSinceLoad: string[] } {
  const list = (typeof modules === 'string' ? [modules] : [...modules]).map(resolveModule);
  if (list.length === 0) throw new Error('codeFingerprint: modules = []; expected at least one module URL or specifier');
  const fps = list.map((m) => moduleFingerprint(m));
  const changedSinceLoad = [...new Set(fps.flatMap((f) => f.changedSinceLoad))].sort();
  if (fps.length === 1) return { fingerprint: fps[0].fingerprint, modules: [fps[0].module], changedSinceLoad };
  const h = createHash('sha256');
  for (const f of [...fps].sort((a, b) => (a.module < b.module ? -1 : 1))) h.update(`${f.module} ${f.fingerprint}\n`);
  return { fingerprint: `sha256:${h.digest('hex')}`, modules: fps.map((f) => f.module).sort(), changedSinceLoad };
}

/** A file URL for a module given as file URL, absolute path, or specifier resolved from the project root. */
export function resolveModule(module: string): string {
  if (typeof module !== 'string' || !module) throw new Error(`resolveModule: module = ${JSON.stringify(module)}; expected a file URL, an absolute path or a package specifier`);
  if (module.startsWith('file:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  try {
    const req = createRequire(join(projectRoot(), 'package.json'));
    return pathToFileURL(req.resolve(module)).href;
  } catch {
    // ESM-only exports conditions: fall back to the import resolver.
    try {
      return import.meta.resolve(module, pathToFileURL(join(projectRoot(), 'package.json')).href);
    } catch (e) {
      throw new Error(`resolveModule: module = ${JSON.stringify(module)}; expected a resolvable specifier (${(e as Error).message})`);
    }
  }
}

/** Forgets cached fingerprints and file hashes (for tests that edit modules in one process). */
export function resetFingerprints(): void {
  fingerprints.clear();
  fileHashes.clear();
  packageRoots.clear();
}

export interface GitState {
  commit: string;
  /** Tracked files differ from the commit. */
  dirty: boolean;
}

let git: GitState | null | undefined;
/** `git rev-parse HEAD` and whether tracked files are modified, for the project checkout; null outside git. Cached per process. */
export function gitState(): GitState | null {
  if (git !== undefined) return git;
  try {
    const opts = { cwd: projectRoot(), encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], timeout: 5000 };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    git = /^[0-9a-f]{40}$/.test(commit) ? { commit, dirty } : null;
  } catch {
    git = null;
  }
  return git;
}
